"""Release what dead runs hold: their STARTED status and their ``duckdb_writer`` pool slots.

A run whose process is killed (``kill -9``, an OOM kill, a power cut) never writes its own end.
It stays STARTED, and with op-granularity pools the slot its writer step claimed stays claimed,
so every later writer step waits on "Step blocked by limit for pool duckdb_writer" forever.

``release_dead_runs`` finds the in-progress runs whose worker process is gone
(``hub_assets.runtime.workers``), marks each failed through ``instance.report_run_failed``
(so the UI, the alert sensor and run history say so) and frees its slots and pending claims
with ``free_concurrency_slots_for_run``. It also frees slots still held by runs that have already
ended. ``hub run`` calls it at start-up; under the daemon, run monitoring does the same through
``HubRunLauncher`` (``hub_assets.runtime.launcher``).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from hub_assets.runtime.workers import is_alive, worker_of

IN_FLIGHT = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class ReleasedRun:
    run_id: str
    job_name: str
    worker: str
    slots_freed: bool


def dead_run_message(worker_description: str) -> str:
    return (f"The process executing this run ({worker_description}) is gone; it was killed or "
            f"crashed without recording an end. Marked failed and its pool slots freed.")


def release_dead_runs(instance: dg.DagsterInstance) -> list[ReleasedRun]:
    released: list[ReleasedRun] = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT)):
        run = record.dagster_run
        worker = worker_of(instance, run)
        if worker is None or is_alive(worker) is not False:
            continue  # never started a worker (the queue's business), or alive, or elsewhere
        instance.report_run_failed(run, dead_run_message(worker.describe()))
        released.append(ReleasedRun(run.run_id, run.job_name, worker.describe(),
                                    _free_slots(instance, run.run_id)))
    _free_slots_of_ended_runs(instance)
    return released


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> bool:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return False
    held = run_id in storage.get_concurrency_run_ids()
    storage.free_concurrency_slots_for_run(run_id)
    return held


def _free_slots_of_ended_runs(instance: dg.DagsterInstance) -> None:
    """Slots still claimed by runs that have ended: nobody will ever free them but us (or the
    daemon's slot sweeper, which ``hub run`` alone does not have)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    run_ids = list(storage.get_concurrency_run_ids())
    if not run_ids:
        return
    for record in instance.get_run_records(dg.RunsFilter(run_ids=run_ids, statuses=list(FINISHED_STATUSES))):
        storage.free_concurrency_slots_for_run(record.dagster_run.run_id)
