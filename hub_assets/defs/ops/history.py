"""A daily job that keeps Dagster's run history within its bound (``runtime/history.py``)."""

import dagster as dg

from hub_assets.runtime.history import KEEP_DAYS, purge_run_history


@dg.op(config_schema={"keep_days": dg.Field(int, default_value=KEEP_DAYS)})
def purge_dagster_run_history(context: dg.OpExecutionContext) -> None:
    deleted = purge_run_history(context.instance, context.op_config["keep_days"])
    context.log.info(f"deleted {len(deleted)} run(s) older than {context.op_config['keep_days']} days "
                     "with their event logs")


@dg.job(description="Deletes Dagster runs and their event logs older than the kept history "
                    "(ingest runs and each asset's latest run are kept).")
def purge_dagster_history_job():
    purge_dagster_run_history()


purge_dagster_history_schedule = dg.ScheduleDefinition(
    name="purge_dagster_history",
    job=purge_dagster_history_job,
    cron_schedule="45 3 * * *",  # after the nightly re-link (02:30)
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Keeps Dagster's run history to {KEEP_DAYS} days (docs/operations.md).",
)
