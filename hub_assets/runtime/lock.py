"""One writer of a data directory at a time: ``hub run`` and ``hub rebuild`` hold
``$HUB_DATA_DIR/.hub.lock`` for as long as they run.

The lock is ``flock`` on the file, so the kernel releases it when the holder exits, however it
exits (``kill -9`` included): a stale lock file never blocks anyone. The file's content names
the holder (pid, host, start time, command) for the message a second caller sees; the content is
informative only, the lock is the ``flock``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".hub.lock"
POLL_SECONDS = 0.5


class DataDirBusy(RuntimeError):
    """Another process holds the data directory."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(f"{data_dir} is in use by {holder}; this command does not interleave "
                         f"with it. Wait for it to finish, or pass --wait.")
        self.holder = holder


def describe_holder(text: str) -> str:
    try:
        info = json.loads(text)
        return (f"`{info['command']}` (pid {info['pid']} on host {info['host']}, "
                f"started {info['started']})")
    except (ValueError, KeyError, TypeError):
        return "another process (its lock file names no holder)"


@contextmanager
def data_dir_lock(data_dir: Path, command: str, wait_seconds: float = 0.0,
                  on_wait=None) -> Iterator[None]:
    """Hold the data directory's lock; raise ``DataDirBusy`` naming the holder if it is still
    held after ``wait_seconds`` (0: refuse at once). ``on_wait(holder)`` is called once if we
    have to wait."""
    path = Path(data_dir) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = describe_holder(path.read_text())
                if time.monotonic() >= deadline:
                    raise DataDirBusy(Path(data_dir), holder) from None
                if on_wait and not told:
                    on_wait(holder)
                    told = True
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "command": command, "pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
