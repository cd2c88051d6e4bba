"""Whether the process executing a Dagster run is still alive.

A run records its worker in one of two ways: ``hub run`` tags its in-process runs with its host,
pid and start time (``worker_tags``); a run launched by the daemon logs the engine event
"Started process for run (pid: N)" from its run worker before the run starts. A pid alone can
be reused by a later process, so a live pid counts only if that process is the same age as the
run's worker: it must have started no later than the moment the run recorded it.

This is Linux's ``/proc``; elsewhere a pid is judged by ``os.kill(pid, 0)`` alone.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType

HOST_TAG = "hub/worker_host"
PID_TAG = "hub/worker_pid"
SEEN_TAG = "hub/worker_seen_at"
# A process's start time in /proc has clock-tick resolution; allow for it and for clock skew.
START_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class Worker:
    host: str | None  # None: the run did not say, so it ran where its instance is (embedded)
    pid: int
    seen_at: float  # epoch seconds at which the run recorded the pid; the process is older

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host or 'this host'}"


def worker_tags() -> dict[str, str]:
    """Tags naming this process as the worker of a run it executes in process."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), SEEN_TAG: f"{time.time():.3f}"}


def worker_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    """The process that executes ``run``, or None if the run never recorded one."""
    tags = run.tags
    if PID_TAG in tags:
        return Worker(tags.get(HOST_TAG), int(tags[PID_TAG]), float(tags.get(SEEN_TAG, "inf")))
    records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ENGINE_EVENT,
                                           limit=25).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None:
            return Worker(tags.get(HOST_TAG), int(pid.value), record.event_log_entry.timestamp)
    return None


def is_alive(worker: Worker) -> bool | None:
    """True or False for a worker on this host; None when it runs on another host."""
    if worker.host and worker.host != socket.gethostname():
        return None
    stat = Path(f"/proc/{worker.pid}/stat")
    if not Path("/proc/self/stat").exists():
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return started <= worker.seen_at + START_SLACK_SECONDS


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")
