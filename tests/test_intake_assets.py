"""The generated ingest assets and checks, run on a real Dagster instance and real DuckDB."""

import dagster as dg
import duckdb

from hub_assets.defs.sources.assets import build_ingest_asset
from hub_assets.defs.sources.checks import build_intake_checks
from hub_assets.defs.sources.partitions import drops_partitions
from hub_assets.runtime.register import register_new_drops
from hub_assets.sources.declaration import agency, load_agencies
from hub_assets.sources.tokens import drop_token


def materialize_drop(name, drop_id, hub, instance, raise_on_error=True):
    source = agency(name)
    return dg.materialize([build_ingest_asset(source), build_intake_checks(source)], partition_key=drop_id,
                          instance=instance, resources={"hub": hub}, raise_on_error=raise_on_error)


def test_every_agency_declares_its_assets_sensor_and_checks():
    from hub_assets.defs.resources import resources
    from hub_assets.defs.sources.definitions import agency_sources

    defs = dg.Definitions.merge(agency_sources(), resources())
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for source in load_agencies():
        assert {f"identity/{source.name}", f"raw/{source.name}"} <= keys
    assert len(defs.sensors) == len(load_agencies())


def test_drop_materialises_with_quality_metadata_and_passing_checks(hub, instance, write_drop):
    write_drop("city_schools", "cps_enrollment_2024_09.csv", n=6,
               overrides={2: {"BIRTH_DATE": "02/30/2014"}, 4: {"GRADE": "13"}})
    added = register_new_drops(instance, hub)
    assert added == {"city_schools": ["cps_enrollment_2024_09.csv"]}

    result = materialize_drop("city_schools", "cps_enrollment_2024_09.csv", hub, instance)

    raw = result.asset_materializations_for_node("ingest_city_schools")
    meta = {m.asset_key.to_user_string(): m.metadata for m in raw}
    assert meta["raw/city_schools"]["rows_received"].value == 6
    assert meta["raw/city_schools"]["rows_accepted"].value == 4
    assert meta["raw/city_schools"]["rows_quarantined"].value == 2
    assert meta["raw/city_schools"]["quarantined_by_rule"].value == {"code_not_in_set": 1, "impossible_date": 1}
    assert meta["raw/city_schools"]["dagster/row_count"].value == 4
    assert "entry_date" in meta["raw/city_schools"]["date_ranges"].value
    checks = result.get_asset_check_evaluations()
    assert {c.check_name: c.passed for c in checks} == {
        "rows_accounted_for": True, "no_identifier_columns": True, "required_content_present": True}
    report = (hub.paths.reports / "city_schools" / "cps_enrollment_2024_09.csv.md").read_text()
    assert "| 3 | BIRTH_DATE | impossible_date | date-like |" in report
    assert "| 5 | GRADE | code_not_in_set | digits |" in report


def test_rejected_drop_fails_the_run_with_one_clear_message(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_10.csv", raw=b"")
    register_new_drops(instance, hub)
    result = materialize_drop("hmis", "hmis_enrollments_2024_10.csv", hub, instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "agency hmis" in message and "hmis_enrollments_2024_10.csv" in message and "empty" in message


def test_drop_registration_is_generated_per_agency(hub, instance, write_drop):
    write_drop("rec_parks", "recparks_registrations_2024w30.csv")
    write_drop("juvenile_services", "djs_intakes_2024q3.txt")
    added = register_new_drops(instance, hub)
    assert added == {"rec_parks": ["recparks_registrations_2024w30.csv"],
                     "juvenile_services": ["djs_intakes_2024q3.txt"]}
    assert instance.get_dynamic_partitions(drops_partitions(agency("rec_parks")).name) == [
        "recparks_registrations_2024w30.csv"]
    assert register_new_drops(instance, hub) == {}


def materialize_drops(name, first, last, hub, instance, raise_on_error=True):
    """One run over the drops first..last, as ``hub run`` and backfills launch it."""
    source = agency(name)
    return dg.materialize([build_ingest_asset(source), build_intake_checks(source)], instance=instance,
                          resources={"hub": hub}, raise_on_error=raise_on_error,
                          tags={"dagster/asset_partition_range_start": first,
                                "dagster/asset_partition_range_end": last})


def test_several_drops_in_one_run_each_materialise_their_own_partition(hub, instance, write_drop):
    write_drop("family_league", "fl_ost_2024q1.csv", n=3)
    write_drop("family_league", "fl_ost_2024q2.csv", n=5, overrides={1: {"session_type": "weekend"}})
    (drops,) = register_new_drops(instance, hub).values()

    result = materialize_drops("family_league", drops[0], drops[-1], hub, instance)

    meta = {(m.asset_key.to_user_string(), m.partition): m.metadata
            for m in result.asset_materializations_for_node("ingest_family_league")}
    assert set(meta) == {(key, d) for key in ("identity/family_league", "raw/family_league") for d in drops}
    assert meta[("raw/family_league", "fl_ost_2024q1.csv")]["rows_accepted"].value == 3
    assert meta[("raw/family_league", "fl_ost_2024q2.csv")]["rows_accepted"].value == 4
    assert meta[("raw/family_league", "fl_ost_2024q2.csv")]["rows_quarantined"].value == 1
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "family_league"])) == set(drops)
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        counts = dict(con.execute("select drop_token, count(*) from raw.family_league group by 1").fetchall())
    assert counts == {drop_token(hub.key(), "family_league", "fl_ost_2024q1.csv"): 3,
                      drop_token(hub.key(), "family_league", "fl_ost_2024q2.csv"): 4}


def test_an_unreadable_drop_fails_its_batch_by_name_before_any_drop_is_written(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    write_drop("hmis", "hmis_enrollments_2024_10.csv", raw=b"")
    write_drop("hmis", "hmis_enrollments_2024_11.csv", n=2)
    (drops,) = register_new_drops(instance, hub).values()

    result = materialize_drops("hmis", drops[0], drops[-1], hub, instance, raise_on_error=False)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "agency hmis" in message and "hmis_enrollments_2024_10.csv" in message and "empty" in message
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        assert con.execute("select drop_id, status from drops").fetchall() == [
            ("hmis_enrollments_2024_10.csv", "rejected")]
    # Run one by one (as hub run then does), the readable drops load and only the bad one fails.
    outcomes = {d: materialize_drop("hmis", d, hub, instance, raise_on_error=False).success for d in drops}
    assert outcomes == {drops[0]: True, drops[1]: False, drops[2]: True}
