"""A full disk, reported as a full disk.

When the data directory's disk fills, the error surfaces wherever the next write happened: an
``OSError`` with ENOSPC from a file write, DuckDB's "No space left on device", or SQLite's
"disk I/O error" / "database or disk is full" from Dagster's own storage. ``disk_full`` recognises
any of them (in an exception's chain or in a step's error text) and ``disk_full_message`` says
what happened in an operator's words: which directory, on which disk, how much is free.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

SIGNS = ("no space left on device", "disk i/o error", "database or disk is full",
         "errno 28", "enospc")


def disk_full(error: BaseException | str) -> bool:
    if isinstance(error, str):
        return any(sign in error.lower() for sign in SIGNS)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if disk_full(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def disk_full_message(paths: list[Path], error: BaseException | str) -> str:
    """Name each directory the hub writes, its free space, and the original error's first line."""
    places, disks = [], set()
    for path in dict.fromkeys(Path(p) for p in paths):
        if path.exists() and path.stat().st_dev not in disks:  # one line per disk
            disks.add(path.stat().st_dev)
            usage = shutil.disk_usage(path)
            places.append(f"{path}: {_mb(usage.free)} free of {_mb(usage.total)}")
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (f"the disk is full ({'; '.join(places)}). The write that failed: {first[:300]}. "
            f"Free space (or move the data directory to a larger disk) and run again: a rerun "
            f"picks up where this run stopped.")


def hub_write_dirs(data_dir: Path) -> list[Path]:
    """The data directory and Dagster's home (run history), which may be on another disk."""
    dirs = [Path(data_dir)]
    if os.environ.get("DAGSTER_HOME"):
        dirs.append(Path(os.environ["DAGSTER_HOME"]))
    return dirs
