"""Dagster's own history, kept within a bound.

Dagster keeps every run and every event of it until told otherwise; the open-source instance
has no setting for runs (``retention`` in ``dagster.yaml`` covers sensor and schedule ticks
only). ``purge_run_history`` deletes, with their event logs, the runs that ended more than
``keep_days`` ago, except:

- ingest runs (those that materialised a ``raw/<agency>`` drop partition): the instance's record
  of which drops were loaded, which the start-up store check reads (``runtime/stores.py``); one
  per drop, so they grow as the archive does;
- the latest run that materialised each asset: an asset never loses its last materialisation,
  so automation never sees a built asset as missing and rebuilds it.

What the hub itself must keep (which release, which materialisation) is in ``audit.log``, not in
Dagster's history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

KEEP_DAYS = 14


def _is_ingest(run: dg.DagsterRun) -> bool:
    return any(key.path[0] == "raw" for key in (run.asset_selection or ()))


def protected_run_ids(instance: dg.DagsterInstance) -> set[str]:
    """The run holding each asset's latest materialisation."""
    keys = list(instance.get_asset_keys())
    latest = instance.get_latest_materialization_events(keys) if keys else {}
    return {event.run_id for event in latest.values() if event is not None}


def purge_run_history(instance: dg.DagsterInstance, keep_days: int = KEEP_DAYS,
                      now: datetime | None = None) -> list[str]:
    """Delete finished runs (and their events) that ended over ``keep_days`` ago; returns their ids."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    keep = protected_run_ids(instance)
    old = instance.get_run_records(filters=dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        updated_before=cutoff))
    deleted = []
    for record in old:
        if record.dagster_run.run_id in keep or _is_ingest(record.dagster_run):
            continue
        if record.end_time is not None and record.end_time > cutoff.timestamp():
            continue
        instance.delete_run(record.dagster_run.run_id)
        deleted.append(record.dagster_run.run_id)
    return deleted
