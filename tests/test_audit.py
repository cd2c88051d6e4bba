"""The audit trail: releases, exports and materialisations are recorded with who, when, what,
approval and digest; the log is append-only and the check notices when it is not."""

import json

import dagster as dg
import duckdb
import pytest

from hub_assets.defs.governance.audit import (
    AUDIT_KEY,
    CHECK,
    audit_log,
    audit_materialisations,
    governance_after_build,
    log_run,
)
from hub_assets.defs.resources import HubResource
from hub_assets.governance import audit


@pytest.fixture
def hub(tmp_path, monkeypatch) -> HubResource:
    monkeypatch.setenv("HUB_USER", "auditor")
    data = tmp_path / "data"
    data.mkdir()
    return HubResource(data_dir=str(data))


def test_an_event_is_written_to_file_and_table_with_who_what_approval_digest(hub):
    with hub.warehouse() as con:
        event = audit.record(con, hub.paths.root, "public_release", "public.t", approval="DSA-1", digest="ab" * 32)
        rows = audit.table_events(con)
    line = json.loads(audit.log_path(hub.paths.root).read_text().splitlines()[0])
    assert line == event and line["who"] == "auditor" and line["approval"] == "DSA-1"
    assert [(r["id"], r["action"], r["what"], r["digest"]) for r in rows] == [
        (event["id"], "public_release", "public.t", "ab" * 32)]


def test_sync_only_inserts_what_the_table_lacks(hub):
    audit.append_event(hub.paths.root, "analyst_export", "a.duckdb")
    with hub.warehouse() as con:
        assert audit.sync_table(con, hub.paths.root) == 1
        assert audit.sync_table(con, hub.paths.root) == 0
        audit.append_event(hub.paths.root, "analyst_export", "b.duckdb")
        assert audit.sync_table(con, hub.paths.root) == 1
        assert audit.verify(con, hub.paths.root) == []


def test_verify_catches_a_deleted_row_and_an_edited_line(hub):
    with hub.warehouse() as con:
        first = audit.record(con, hub.paths.root, "public_release", "public.t", digest="1" * 64)
        audit.record(con, hub.paths.root, "public_release", "public.u", digest="2" * 64)
        assert audit.verify(con, hub.paths.root, previous_rows=2) == []
        con.execute("delete from audit.events where what = 'public.u'")
        problems = audit.verify(con, hub.paths.root, previous_rows=2)
        assert "audit.events shrank from 2 to 1 rows" in problems
        assert "1 audit.log events are not in audit.events" in problems
    log = audit.log_path(hub.paths.root)
    log.write_text(log.read_text().replace("1" * 64, "f" * 64))  # someone rewrites a digest
    with hub.warehouse() as con:
        assert f"audit.events row {first['id']} differs from its audit.log line" in audit.verify(con, hub.paths.root)


def test_materialisations_of_a_run_are_logged_once(hub):
    @dg.asset
    def thing() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"agreement": "DSA-9", "rows": 3})

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([thing], instance=instance)
        assert log_run(instance, result.run_id, hub.paths.root) == 1
        assert log_run(instance, result.run_id, hub.paths.root) == 0  # a re-read adds nothing
    [event] = audit.read_log(hub.paths.root)
    assert event["action"] == "materialisation" and event["what"].startswith("thing (run ")
    assert event["approval"] == "DSA-9" and len(event["digest"]) == 64


def test_the_audit_log_asset_check_fails_when_rows_disappear(hub):
    def materialise(instance):
        result = dg.materialize([audit_log], instance=instance, resources={"hub": hub}, raise_on_error=False)
        [evaluation] = [e.asset_check_evaluation_data for e in result.all_events
                        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        assert evaluation.asset_key == AUDIT_KEY and evaluation.check_name == CHECK
        return evaluation

    with dg.DagsterInstance.ephemeral() as instance:
        audit.append_event(hub.paths.root, "public_release", "public.t", digest="1" * 64)
        audit.append_event(hub.paths.root, "public_release", "public.u", digest="2" * 64)
        assert materialise(instance).passed
        # Someone truncates both the file and the table: they agree, but the count dropped.
        with duckdb.connect(str(hub.paths.warehouse_db)) as con:
            con.execute("delete from audit.events")
        audit.log_path(hub.paths.root).write_text("")
        failed = materialise(instance)
    assert not failed.passed and "shrank from 2 to 0" in failed.metadata["problems"].value


def test_every_run_is_audited_and_followed_by_the_governance_job(hub):
    @dg.asset
    def thing() -> None:
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([thing], instance=instance)
        run = instance.get_run_by_id(result.run_id)
        success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        context = dg.build_run_status_sensor_context(
            sensor_name="audit_materialisations", dagster_event=success, dagster_instance=instance,
            dagster_run=run, resources={"hub": hub})
        request = audit_materialisations(context)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"governance-after-{run.run_id}"
        # The governance job's own run is audited but requests nothing: no loop.
        second = dg.materialize([thing], instance=instance)
        own = instance.get_run_by_id(second.run_id)
        own = own.with_job_name(governance_after_build.name) if hasattr(own, "with_job_name") else \
            own._replace(job_name=governance_after_build.name)
        context = dg.build_run_status_sensor_context(
            sensor_name="audit_materialisations", dagster_event=success, dagster_instance=instance,
            dagster_run=own, resources={"hub": hub})
        assert isinstance(audit_materialisations(context), dg.SkipReason)
    assert [e["action"] for e in audit.read_log(hub.paths.root)] == ["materialisation", "materialisation"]


def test_the_governance_job_waits_for_the_last_run_of_a_burst(hub):
    """While another run is queued (the drop's build, after its ingest), the ended run is audited
    but requests no governance run; the queued run, when it ends, requests it."""
    @dg.asset
    def thing() -> None:
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([thing], instance=instance)
        success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        queued = instance.create_run_for_job(dg.define_asset_job("next_build").resolve(
            asset_graph=dg.Definitions(assets=[thing]).resolve_asset_graph()))  # created, not yet started

        def sensed(run_id):
            return audit_materialisations(dg.build_run_status_sensor_context(
                sensor_name="audit_materialisations", dagster_event=success, dagster_instance=instance,
                dagster_run=instance.get_run_by_id(run_id), resources={"hub": hub}))

        waiting = sensed(result.run_id)
        assert isinstance(waiting, dg.SkipReason) and "1 other run(s) queued" in waiting.skip_message
        instance.report_run_canceled(queued)  # it ends; a later run's sensor evaluation finds nothing pending
        later = dg.materialize([thing], instance=instance)
        assert isinstance(sensed(later.run_id), dg.RunRequest)
    assert len(audit.read_log(hub.paths.root)) == 2, "both runs audited"


def test_an_ingest_run_leaves_the_governance_job_to_the_build_after_it(hub):
    drops = dg.DynamicPartitionsDefinition(name="audit_drops")

    @dg.asset(key=["raw", "toy"], partitions_def=drops)
    def raw() -> None:
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(drops.name, ["d1"])
        result = dg.materialize([raw], instance=instance, partition_key="d1")
        success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        skipped = audit_materialisations(dg.build_run_status_sensor_context(
            sensor_name="audit_materialisations", dagster_event=success, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id), resources={"hub": hub}))
        assert isinstance(skipped, dg.SkipReason) and "ingest run" in skipped.skip_message
    assert len(audit.read_log(hub.paths.root)) == 1, "its materialisation is audited all the same"


def test_hub_audit_prints_the_most_recent_events(hub):
    from click.testing import CliRunner

    from hub_assets.cli import main

    for n in range(5):
        audit.append_event(hub.paths.root, "public_release", f"public.t{n}", approval="DSA-1", digest=f"{n}" * 64)
    result = CliRunner().invoke(main, ["audit", "--limit", "2", "--data-dir", str(hub.paths.root)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and "public.t3" in lines[0] and "public.t4" in lines[1]
    assert "auditor" in lines[1] and "approval=DSA-1" in lines[1]
