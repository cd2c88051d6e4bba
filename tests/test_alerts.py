"""A failed run leaves an alert line naming the failed asset and its error."""

from __future__ import annotations

import json

import dagster as dg

from hub_assets.defs.ops.alerts import hub_run_failure_alert
from hub_assets.defs.resources import HubResource
from hub_assets.runtime.instance import ensure_dagster_home


@dg.asset(key=["raw", "broken_agency"])
def broken_agency() -> None:
    raise ValueError("broken_agency: file drop_01.csv row 3 column DOB: '31/02/2010' is not a date")


@dg.asset(key=["raw", "fine_agency"])
def fine_agency() -> int:
    return 1


def _evaluate_sensor_on_failed_run(tmp_path, open_shipped_instance):
    home = ensure_dagster_home(tmp_path / "data")
    hub = HubResource(data_dir=str(tmp_path / "data"))
    with open_shipped_instance(home) as instance:
        result = dg.materialize(
            [broken_agency, fine_agency], instance=instance, raise_on_error=False
        )
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name=hub_run_failure_alert.name,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"hub": hub},
        ).for_run_failure()
        hub_run_failure_alert(context)
        return result.dagster_run, hub.paths.alerts_log


def test_failed_asset_run_appends_an_alert_naming_asset_and_error(tmp_path, open_shipped_instance):
    run, alerts_log = _evaluate_sensor_on_failed_run(tmp_path, open_shipped_instance)

    lines = alerts_log.read_text().splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    assert alert["run_id"] == run.run_id
    assert alert["job"] == run.job_name
    assert alert["failed_assets"] == ["raw/broken_agency"]  # the healthy asset is not blamed
    assert alert["failed_steps"] == ["raw__broken_agency"]
    assert "ValueError" in alert["error"] and "row 3 column DOB" in alert["error"]
    assert alert["at"]


def test_alerts_accumulate_one_line_per_failed_run(tmp_path, open_shipped_instance):
    _evaluate_sensor_on_failed_run(tmp_path, open_shipped_instance)
    _, alerts_log = _evaluate_sensor_on_failed_run(tmp_path, open_shipped_instance)

    alerts = [json.loads(line) for line in alerts_log.read_text().splitlines()]
    assert len(alerts) == 2
    assert alerts[0]["run_id"] != alerts[1]["run_id"]


def test_alert_sensor_is_running_by_default():
    assert hub_run_failure_alert.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_rejected_agency_drop_alerts_with_agency_file_and_assets(
    hub_data_dir, hub, write_drop, open_shipped_instance
):
    """The real ingest asset, fed a drop missing a declared column, fails; the alert says which."""
    from hub_assets.defs.sources.assets import build_ingest_asset
    from hub_assets.runtime.register import register_new_drops
    from hub_assets.sources.declaration import agency

    source = agency("rec_parks")
    header = [c for c in source.expected_columns if c != "Program"]
    write_drop("rec_parks", "recparks_registrations_2024_08.csv", header=header)
    home = ensure_dagster_home(hub_data_dir)
    with open_shipped_instance(home) as instance:
        register_new_drops(instance, hub)
        result = dg.materialize(
            [build_ingest_asset(source)],
            instance=instance,
            resources={"hub": hub},
            partition_key="recparks_registrations_2024_08.csv",
            raise_on_error=False,
        )
        assert not result.success
        hub_run_failure_alert(
            dg.build_run_status_sensor_context(
                sensor_name=hub_run_failure_alert.name,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_run_failure_event(),
                resources={"hub": hub},
            ).for_run_failure()
        )

    alert = json.loads(hub.paths.alerts_log.read_text().splitlines()[-1])
    assert alert["failed_assets"] == ["identity/rec_parks", "raw/rec_parks"]
    assert alert["partition"] == "recparks_registrations_2024_08.csv"
    assert "rec_parks" in alert["error"] and "recparks_registrations_2024_08.csv" in alert["error"]
    assert "Program" in alert["error"]
    assert alert["error"].startswith("DropRejected: agency rec_parks")
