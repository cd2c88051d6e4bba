"""The audit trail in Dagster, and governance after every build.

- Two run sensors (success and failure) log every materialisation of every run to ``audit.log``
  and then request ``governance_after_build``: the identifier scan and ``governance/audit_log``
  (once no other run is queued or in progress: the last run of a burst requests it; after a
  successful ingest run, the automation run that always follows it does).
  So the scan runs after every build, even one where a public release was refused (within that
  run it is skipped, being downstream of the refused asset).
- ``governance/audit_log`` brings ``audit.events`` up to date from ``audit.log`` and checks that
  the two agree and that the table never shrinks.

The sensors only append to the file: they run outside the writer pool and must never take the
warehouse's lock from a running asset. The asset, in the writer pool, does the inserting.
"""


import hashlib
import json

import dagster as dg

from hub_assets.defs.identifier_scan.assets import SCAN_KEY
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.governance import audit

AUDIT_KEY = dg.AssetKey(["governance", "audit_log"])
CHECK = "audit_log_append_only"

governance_after_build = dg.define_asset_job(
    "governance_after_build", selection=dg.AssetSelection.assets(SCAN_KEY, AUDIT_KEY),
    description="Identifier scan and audit-table sync, requested after every run.")


def materialisation_events(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """One audit event per asset materialised in the run, with a stable id (re-reading is harmless)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    events = []
    for record in records:
        mat = record.event_log_entry.asset_materialization
        if mat is None:
            continue
        what = mat.asset_key.to_user_string() + (f" [{mat.partition}]" if mat.partition else "")
        metadata = json.dumps({k: str(v.value) for k, v in mat.metadata.items()}, sort_keys=True)
        events.append({
            "id": hashlib.sha256(f"{run_id}|{record.storage_id}".encode()).hexdigest()[:32],
            "what": f"{what} (run {run_id})",
            "approval": str(mat.metadata["agreement"].value) if "agreement" in mat.metadata else None,
            "digest": hashlib.sha256(metadata.encode()).hexdigest(),
        })
    return events


def log_run(instance: dg.DagsterInstance, run_id: str, data_dir) -> int:
    known = {e["id"] for e in audit.read_log(data_dir)}
    new = [e for e in materialisation_events(instance, run_id) if e["id"] not in known]
    for event in new:
        audit.append_event(data_dir, "materialisation", event["what"], event["approval"], event["digest"],
                           event_id=event["id"])
    return len(new)


def runs_still_to_finish(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Other runs queued or in progress, the governance job's own excepted."""
    busy = instance.get_run_records(filters=dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED]))
    return [r.dagster_run.run_id for r in busy
            if r.dagster_run.run_id != run_id and r.dagster_run.job_name != governance_after_build.name]


def _only_ingest(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """A run that loaded agency drops and nothing else (automation always builds on after it)."""
    keys = run.asset_selection or {
        r.event_log_entry.asset_materialization.asset_key
        for r in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records}
    return bool(keys) and all(k.path[0] in ("raw", "identity") for k in keys)


def _after_run(context, hub: HubResource):
    run = context.dagster_run
    n = log_run(context.instance, run.run_id, hub.paths.root)
    context.log.info(f"audited {n} materialisations of run {run.run_id}")
    if run.job_name == governance_after_build.name or not n:
        return dg.SkipReason("nothing materialised, or the run was the governance job itself")
    # The scan covers the warehouse as it is, not one run: while other runs are on their way (a
    # drop's ingest, then its build and release), the last of them to end requests it, rather
    # than each queueing a governance run in front of the release.
    if run.status == dg.DagsterRunStatus.SUCCESS and _only_ingest(context.instance, run):
        return dg.SkipReason("an ingest run: the automation run that follows it (linkage to the release) "
                             "requests the governance job")
    pending = runs_still_to_finish(context.instance, run.run_id)
    if pending:
        return dg.SkipReason(f"{len(pending)} other run(s) queued or in progress; the governance job "
                             "follows the last of them")
    return dg.RunRequest(run_key=f"governance-after-{run.run_id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS, name="audit_materialisations", request_job=governance_after_build,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Audits every materialisation of a successful run, then runs the identifier scan.",
)
def audit_materialisations(context: dg.RunStatusSensorContext, hub: HubResource):
    return _after_run(context, hub)


@dg.run_failure_sensor(
    name="audit_materialisations_of_failed_runs", request_job=governance_after_build,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Audits what a failed run did materialise, then runs the identifier scan.",
)
def audit_failed_runs(context: dg.RunFailureSensorContext, hub: HubResource):
    return _after_run(context, hub)


@dg.asset(
    key=AUDIT_KEY, group_name="governance", pool=WRITER_POOL, kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(CHECK, asset=AUDIT_KEY, blocking=True,
                                   description="audit.events and audit.log agree and never lose rows.")],
    description="audit.events in the warehouse, brought up to date from the append-only audit.log.",
)
def audit_log(context: dg.AssetExecutionContext, hub: HubResource):
    previous = context.instance.get_latest_materialization_event(AUDIT_KEY)
    before = None
    if previous and previous.asset_materialization and "rows" in previous.asset_materialization.metadata:
        before = int(previous.asset_materialization.metadata["rows"].value)
    with hub.warehouse() as con:
        inserted = audit.sync_table(con, hub.paths.root)
        problems = audit.verify(con, hub.paths.root, previous_rows=before)
        rows = con.execute("select count(*) from audit.events").fetchone()[0]
    yield dg.MaterializeResult(metadata={"rows": rows, "inserted": inserted})
    yield dg.AssetCheckResult(
        check_name=CHECK,
        asset_key=AUDIT_KEY,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": "\n".join(problems[:20]), "rows": rows, "previous_rows": before or 0},
    )
