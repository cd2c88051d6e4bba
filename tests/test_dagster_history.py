"""Dagster's own history stays within its bound: tick retention in the shipped instance, and the
daily purge of old runs with their event logs (``hub_assets/runtime/history.py``)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.run_request import InstigatorType

from hub_assets.defs.ops.history import purge_dagster_history_job, purge_dagster_history_schedule
from hub_assets.runtime.history import purge_run_history
from hub_assets.runtime.instance import ensure_dagster_home

DROPS = dg.DynamicPartitionsDefinition(name="history_drops")


@dg.asset(key=["raw", "toy"], partitions_def=DROPS)
def raw() -> None: ...


@dg.asset(key=["marts", "toy"])
def mart() -> None: ...


@dg.asset(key=["public", "toy"])
def public() -> None: ...


def runs(instance) -> dict[str, str]:
    return {r.run_id: r.asset_selection and next(iter(r.asset_selection)).to_user_string()
            for r in instance.get_runs()}


def build_history(instance) -> dict[str, list[str]]:
    """An ingest run, two builds of the mart, one of the public table: run ids by asset."""
    instance.add_dynamic_partitions(DROPS.name, ["d1"])
    made: dict[str, list[str]] = {"raw": [], "mart": [], "public": []}
    made["raw"].append(dg.materialize([raw], instance=instance, partition_key="d1").run_id)
    for _ in range(2):
        made["mart"].append(dg.materialize([mart], instance=instance).run_id)
    made["public"].append(dg.materialize([public], instance=instance).run_id)
    return made


def test_runs_older_than_the_bound_are_deleted_with_their_events(instance):
    made = build_history(instance)
    assert purge_run_history(instance, keep_days=14) == [], "everything is within the bound"
    deleted = purge_run_history(instance, keep_days=14, now=datetime.now(UTC) + timedelta(days=15))
    assert deleted == [made["mart"][0]]
    assert instance.get_run_by_id(made["mart"][0]) is None
    assert instance.all_logs(made["mart"][0]) == []
    # Kept: the ingest run (which drops were loaded) and each asset's latest materialisation.
    assert set(runs(instance)) == {made["raw"][0], made["mart"][1], made["public"][0]}
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "toy"])) == {"d1"}
    assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "toy"])).run_id == made["mart"][1]


def test_the_daily_purge_job_deletes_old_runs(instance):
    made = build_history(instance)
    result = purge_dagster_history_job.execute_in_process(
        instance=instance, run_config={"ops": {"purge_dagster_run_history": {"config": {"keep_days": 0}}}})
    assert result.success
    assert made["mart"][0] not in runs(instance)
    assert {made["raw"][0], made["mart"][1], made["public"][0], result.run_id} <= set(runs(instance))
    assert purge_dagster_history_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_shipped_instance_purges_sensor_ticks(tmp_path, open_shipped_instance):
    with open_shipped_instance(ensure_dagster_home(tmp_path)) as instance:
        sensor = instance.get_tick_retention_settings(InstigatorType.SENSOR)
        days = {status.value: n for status, n in sensor.items()}
        # A tick still STARTED is one being evaluated (Dagster keeps those); every finished one goes.
        assert days == {"STARTED": -1, "SKIPPED": 1, "SUCCESS": 30, "FAILURE": 30}
        schedule = instance.get_tick_retention_settings(InstigatorType.SCHEDULE)
        assert all(n > 0 for status, n in schedule.items() if status.value != "STARTED")
