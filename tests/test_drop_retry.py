"""A drop is loaded only once its rows are committed; until then every run and sensor tick
loads it again; a rejected drop is reported by every run until it is replaced or withdrawn."""

import shutil

import dagster as dg
import duckdb

from hub_assets.defs.sources.definitions import agency_sources
from hub_assets.defs.sources.partitions import identity_key, raw_key
from hub_assets.defs.sources.sensors import build_drops_sensor, retry_requests
from hub_assets.run import HubRunReport, _ingest_agency
from hub_assets.runtime.register import drops_to_load, register_new_drops
from hub_assets.sources.declaration import agency
from hub_assets.sources.intake import withdraw_drop
from hub_assets.sources.landing import received_drop_ids
from hub_assets.sources.outcomes import outstanding
from hub_assets.sources.tokens import drop_token


def defs_for(hub):
    return dg.Definitions.merge(agency_sources(), dg.Definitions(resources={"hub": hub}))


def hub_run_ingest(hub, instance, name):
    """What ``hub run`` does for one agency: register, then load every drop still to load."""
    register_new_drops(instance, hub, settle_seconds=0)
    to_load = drops_to_load(hub)
    drop_ids = to_load.get(name, [])
    report = HubRunReport()
    if drop_ids:
        _ingest_agency(defs_for(hub), instance, report, name, drop_ids, 0, len(drop_ids))
    return to_load, report


def break_warehouse(hub):
    """The warehouse cannot be opened (as with a full disk or a store that went away)."""
    hub.paths.warehouse_db.unlink(missing_ok=True)
    hub.paths.warehouse_db.mkdir()


def mend_warehouse(hub):
    shutil.rmtree(hub.paths.warehouse_db)


def warehouse_rows(hub, name):
    """drop_id -> rows in raw.<name> (the warehouse knows a drop by its token)."""
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        counts = dict(con.execute(f"select drop_token, count(*) from raw.{name} group by 1").fetchall())
    return {d: counts[drop_token(hub.key(), name, d)] for d in received_drop_ids(hub.paths, name)
            if drop_token(hub.key(), name, d) in counts}


def test_a_drop_whose_load_failed_is_loaded_by_the_next_run(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    write_drop("hmis", "hmis_enrollments_2024_10.csv", n=4)
    break_warehouse(hub)

    first, report = hub_run_ingest(hub, instance, "hmis")
    assert first["hmis"] == ["hmis_enrollments_2024_09.csv", "hmis_enrollments_2024_10.csv"]
    assert report.failures
    assert [(o.drop_id, o.state) for o in outstanding(hub.paths, "hmis")] == [
        ("hmis_enrollments_2024_09.csv", "unloaded"), ("hmis_enrollments_2024_10.csv", "unloaded")]

    mend_warehouse(hub)
    again, report = hub_run_ingest(hub, instance, "hmis")

    assert again["hmis"] == first["hmis"]  # registered by the first run, loaded by this one
    assert not report.failures
    assert outstanding(hub.paths, "hmis") == []
    assert warehouse_rows(hub, "hmis") == {"hmis_enrollments_2024_09.csv": 3, "hmis_enrollments_2024_10.csv": 4}
    assert instance.get_materialized_partitions(raw_key(agency("hmis"))) == set(first["hmis"])
    third, _ = hub_run_ingest(hub, instance, "hmis")
    assert "hmis" not in third  # loaded drops are not loaded again


def test_the_sensor_requests_a_failed_drop_again_after_a_backoff(hub, instance, write_drop):
    source = agency("hmis")
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    sensor = build_drops_sensor(source)
    job = defs_for(hub).resolve_implicit_job_def_def_for_assets([identity_key(source), raw_key(source)])

    def launch(request):  # what the daemon does with a run request
        return job.execute_in_process(instance=instance, partition_key=request.partition_key,
                                      asset_selection=list(request.asset_selection), tags=request.tags,
                                      raise_on_error=False)

    tick = sensor(dg.build_sensor_context(instance=instance, resources={"hub": hub}))
    for request in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    break_warehouse(hub)
    assert not launch(tick.run_requests[0]).success

    soon = sensor(dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources={"hub": hub}))
    assert isinstance(soon, dg.SkipReason) or not soon.run_requests  # within the backoff
    (failed,) = instance.get_run_records()
    later = retry_requests(source, instance, hub.paths, {"hmis_enrollments_2024_09.csv"},
                           now=failed.end_time + 31)
    assert [(r.run_key, r.partition_key) for r in later] == [
        ("hmis:hmis_enrollments_2024_09.csv:retry1", "hmis_enrollments_2024_09.csv")]

    mend_warehouse(hub)
    assert launch(later[0]).success
    assert outstanding(hub.paths, "hmis") == []
    assert retry_requests(source, instance, hub.paths, {"hmis_enrollments_2024_09.csv"},
                          now=failed.end_time + 10_000) == []
    assert warehouse_rows(hub, "hmis") == {"hmis_enrollments_2024_09.csv": 3}


def test_a_rejected_drop_is_reported_by_every_run_until_withdrawn(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    write_drop("hmis", "hmis_enrollments_2024_10.csv", n=0)  # header only

    hub_run_ingest(hub, instance, "hmis")
    for _ in range(2):  # the run that hit it, and every run after
        (drop,) = outstanding(hub.paths, "hmis")
        assert (drop.file_name, drop.state, drop.problem) == (
            "hmis_enrollments_2024_10.csv", "rejected", "the file has a header but no rows")
        assert "hmis" not in hub_run_ingest(hub, instance, "hmis")[0]  # not loaded again: same bytes

    withdraw_drop(agency("hmis"), "hmis_enrollments_2024_10.csv", hub, reason="sent by mistake")

    assert outstanding(hub.paths, "hmis") == []
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        assert con.execute("select status, problem from drops where drop_id = 'hmis_enrollments_2024_10.csv'"
                           ).fetchall() == [("withdrawn", "withdrawn: sent by mistake")]


def test_a_rejected_drop_is_cleared_by_a_corrected_file_under_the_same_name(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_10.csv", n=0)
    hub_run_ingest(hub, instance, "hmis")
    assert [o.state for o in outstanding(hub.paths, "hmis")] == ["rejected"]

    write_drop("hmis", "hmis_enrollments_2024_10.csv", n=4)
    registered, report = hub_run_ingest(hub, instance, "hmis")

    assert registered["hmis"] == ["hmis_enrollments_2024_10.csv~v2"] and not report.failures
    assert outstanding(hub.paths, "hmis") == []
    assert warehouse_rows(hub, "hmis") == {"hmis_enrollments_2024_10.csv~v2": 4}
