"""Two hub commands on one data directory never interleave: the second refuses at once, naming
the holder (pid, host, start time), or waits with ``--wait``; the lock dies with its holder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hub_assets.run import BUSY_EXIT_CODE

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from hub_assets.runtime.lock import data_dir_lock

    with data_dir_lock(Path(sys.argv[1]), "hub run"):
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _env(data: Path) -> dict[str, str]:
    return dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY="lock-test-key",
                DAGSTER_HOME=str(data / ".dagster"))


def _hold(data: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def _hub_run(data: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub_assets.cli", "run", *args], env=_env(data),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    return data


def test_a_second_hub_run_refuses_naming_the_holder(data, open_shipped_instance):
    holder = _hold(data, 120)
    try:
        second = _hub_run(data)
    finally:
        holder.kill()
        holder.wait()

    assert second.returncode == BUSY_EXIT_CODE, second.stderr
    assert f"pid {holder.pid} on host {socket.gethostname()}" in second.stderr
    assert "started 20" in second.stderr and "`hub run`" in second.stderr
    # It did nothing: no run of its own was recorded in the instance.
    with open_shipped_instance(data / ".dagster") as instance:
        assert instance.get_runs() == []


def test_a_waiting_hub_run_starts_only_after_the_holder_ends(data, open_shipped_instance):
    # Long enough that the second run reaches the lock (imports take seconds) while it is held.
    holder = _hold(data, 40)
    second = _hub_run(data, "--wait", "300")
    holder.wait()

    assert "waiting for `hub run` (pid" in second.stderr
    assert "refused" not in second.stderr
    assert "hub run: data dir" in second.stdout
    with open_shipped_instance(data / ".dagster") as instance:
        runs = instance.get_run_records()
        assert runs, "the waiting run ran nothing"
        holder_ended = (data / ".hub.lock").stat().st_mtime  # rewritten by the second holder
        assert min(r.create_timestamp.timestamp() for r in runs) >= holder_ended - 1


def test_the_lock_dies_with_a_killed_holder(data):
    holder = _hold(data, 600)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    after = _hub_run(data)

    assert after.returncode != BUSY_EXIT_CODE and "refused" not in after.stderr, after.stderr
    assert "hub run: data dir" in after.stdout
