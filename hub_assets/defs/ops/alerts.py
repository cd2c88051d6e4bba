"""Run-failure alerts: every failed run appends one JSON line to ``$HUB_DATA_DIR/alerts.log``.

The log is the hook for mail or chat: a forwarder tails it (or this sensor grows a second
sink) without touching the pipeline. A line names the run, its job, the assets and steps that
failed and the first error, so an operator can act on it without opening the UI.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from hub_assets.defs.resources import HubResource


def failed_steps_and_assets(
    instance: dg.DagsterInstance, run_id: str, failure_events: list[dg.DagsterEvent]
) -> tuple[list[str], list[str], list[str]]:
    """(failed step keys, failed asset keys, error messages) of one run.

    Step failures do not carry asset keys; the run's "materialization planned" events map each
    asset to the step that was to produce it, so a failed step names its assets through them.
    """
    steps = [e.step_key for e in failure_events if e.step_key]
    errors = []
    for event in failure_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            errors.append(_root_cause(error))
    planned = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    assets = sorted({
        record.event_log_entry.dagster_event.asset_key.to_user_string()
        for record in planned
        if record.event_log_entry.dagster_event
        and record.event_log_entry.step_key in steps
    })
    return steps, assets, errors


def _root_cause(error) -> str:
    """The user's own exception, not Dagster's "error occurred while executing" wrapper."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    # Messages read "ClassName: text" or "package.module.ClassName: text"; keep one short prefix.
    head, sep, text = message.partition(": ")
    if sep and head.split(".")[-1] == error.cls_name:
        message = text
    return f"{error.cls_name}: {message}"


def append_alert(alerts_log: Path, alert: dict) -> None:
    alerts_log.parent.mkdir(parents=True, exist_ok=True)
    with alerts_log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(alert, sort_keys=True) + "\n")


@dg.run_failure_sensor(
    name="hub_run_failure_alert",
    description="Appends a JSON line to $HUB_DATA_DIR/alerts.log for every failed run.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=True,
)
def hub_run_failure_alert(context: dg.RunFailureSensorContext, hub: HubResource) -> None:
    run = context.dagster_run
    steps, assets, errors = failed_steps_and_assets(
        context.instance, run.run_id, context.get_step_failure_events()
    )
    # A run can fail without a failing step (e.g. it could not start): the run's own
    # failure message is then the only explanation there is.
    run_message = context.failure_event.message or ""
    alert = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "failed_assets": assets,
        "failed_steps": steps,
        "error": errors[0] if errors else run_message,
        "errors": errors,
        "run_failure": run_message,
        "partition": run.tags.get("dagster/partition"),
    }
    append_alert(hub.paths.alerts_log, alert)
    context.log.info(f"alert written for run {run.run_id}: {alert['error'][:200]}")
