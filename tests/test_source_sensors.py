"""The per-agency drop sensors, evaluated against a real Dagster instance."""

import json

import dagster as dg

from hub_assets.defs.sources.partitions import drops_partitions
from hub_assets.defs.sources.sensors import build_drops_sensor
from hub_assets.sources.declaration import agency


def evaluate(name, hub, instance, cursor=None):
    sensor = build_drops_sensor(agency(name))
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"hub": hub})
    return sensor(context)


def apply(result, instance):
    """What the daemon does with a sensor result: add the requested partitions."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_sensor_picks_up_a_new_file_and_requests_exactly_one_run(hub, instance, write_drop):
    write_drop("youthworks", "youthworks_2024.csv")
    result = evaluate("youthworks", hub, instance)
    assert [r.partition_key for r in result.run_requests] == ["youthworks_2024.csv"]
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["youthworks_2024.csv"]]
    assert result.dynamic_partitions_requests[0].partitions_def_name == "youthworks_drops"
    assert (hub.paths.archive / "youthworks" / "youthworks_2024.csv").exists()
    apply(result, instance)

    again = evaluate("youthworks", hub, instance, cursor=result.cursor)
    assert isinstance(again, dg.SkipReason)


def test_redelivered_file_requests_nothing(hub, instance, write_drop):
    path = write_drop("youthworks", "youthworks_2024.csv")
    first = evaluate("youthworks", hub, instance)
    apply(first, instance)
    # The agency sends the same bytes again (a new mtime, so the cursor's fingerprint moves).
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)
    again = evaluate("youthworks", hub, instance, cursor=json.dumps({"landing": {}, "registered": 0}))
    assert not again.run_requests
    assert not again.dynamic_partitions_requests
    assert instance.get_dynamic_partitions("youthworks_drops") == ["youthworks_2024.csv"]


def test_changed_bytes_under_the_same_name_become_a_new_version(hub, instance, write_drop):
    write_drop("youthworks", "youthworks_2024.csv", n=3)
    apply(evaluate("youthworks", hub, instance), instance)
    write_drop("youthworks", "youthworks_2024.csv", n=4)
    result = evaluate("youthworks", hub, instance)
    assert [r.partition_key for r in result.run_requests] == ["youthworks_2024.csv~v2"]


def test_unmatched_file_is_reported(hub, instance, write_drop):
    write_drop("youthworks", "summer_jobs_final_FINAL.xlsx", raw=b"PK\x03\x04 not a drop")
    result = evaluate("youthworks", hub, instance)
    assert not result.run_requests
    report = (hub.paths.reports / "unmatched_files.md").read_text()
    assert "| youthworks | summer_jobs_final_FINAL.xlsx | does not match the declared pattern" in report
    assert not (hub.paths.archive / "youthworks" / "summer_jobs_final_FINAL.xlsx").exists()


def test_a_received_drop_without_a_partition_is_registered_again(hub, instance, write_drop):
    # The process stopped after receiving the file but before the daemon added the partition.
    write_drop("hmis", "hmis_enrollments_2024_10.csv")
    lost = evaluate("hmis", hub, instance)
    assert lost.run_requests  # not applied: the partition was never added
    retry = evaluate("hmis", hub, instance, cursor=lost.cursor)
    assert [r.partition_key for r in retry.run_requests] == ["hmis_enrollments_2024_10.csv"]
    assert drops_partitions(agency("hmis")).name == "hmis_drops"
