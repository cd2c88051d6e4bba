"""The linkage and spine assets run in a real Dagster instance against real stores: first run
trains and links in full, a later run attaches only the new records, the nightly job re-links."""

import dagster as dg
import duckdb
import polars as pl
import pytest
from linkage_people import people, write_identity_db

from hub_assets.defs.linkage.assets import linkage_model, person_keys
from hub_assets.defs.linkage.schedules import full_relink_job
from hub_assets.defs.spine.assets import (
    every_record_mapped_once,
    person_keys_are_unique,
    spine_has_no_identifier_columns,
    spine_tables,
)
from hub_assets.linkage.operations import LinkagePaths
from hub_assets.settings import private_files

ASSETS = [linkage_model, person_keys, spine_tables]
CHECKS = [spine_has_no_identifier_columns, person_keys_are_unique, every_record_mapped_once]


def _materialize(hub, instance, selection, config=None):
    return dg.materialize([*ASSETS, *CHECKS], selection=selection, resources={"hub": hub},
                          instance=instance, run_config=config or {})


def _keys(hub) -> dict[str, str]:
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        return dict(con.sql("select record_token, person_key from person_keys").fetchall())


def test_person_keys_then_spine_first_full_then_incremental(hub, instance):
    records, truth = people(150, seed=5)
    first, later = records.head(records.height - 10), records
    write_identity_db(hub.paths.identity_db, first)
    # A synthetic city's truth in the data directory: read for the quality report only.
    hub.paths.truth.mkdir(parents=True, exist_ok=True)
    truth.write_parquet(hub.paths.truth / "records.parquet")

    result = _materialize(hub, instance, dg.AssetSelection.assets(["linkage", "person_keys"])
                          | dg.AssetSelection.groups("spine"))
    assert result.success
    where = LinkagePaths.of(hub.paths)
    assert where.model.exists() and where.quality.exists()
    assert (where.reports / "match_weights.html").exists()
    meta = result.asset_materializations_for_node("linkage__person_keys")[0].metadata
    assert meta["mode"].value == "full"
    assert 0.9 <= meta["cluster_precision"].value <= 1 and 0.5 <= meta["cluster_recall"].value <= 1
    assert 0 < meta["pairwise_f1"].value <= 1
    assert "## Against ground truth" in where.quality.read_text()
    by_group = meta["linkage_error_by_group"].value  # error rates, not only link rates, by group
    assert all(f"| {title} | records | true links" in by_group for title in ("source", "age band", "race/ethnicity"))
    checks = {e.event_specific_data.check_name: e.event_specific_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks and all(checks.values()), checks
    before = _keys(hub)

    write_identity_db(hub.paths.identity_db.with_name("next.duckdb"), later)
    with duckdb.connect(str(hub.paths.identity_db)) as con:  # the next drop arrives
        con.execute(f"attach '{hub.paths.identity_db.with_name('next.duckdb')}' as nxt")
        con.execute("create or replace table records as select * from nxt.records")
    result = _materialize(hub, instance, ["linkage/person_keys"])
    meta = result.asset_materializations_for_node("linkage__person_keys")[0].metadata
    assert meta["mode"].value == "incremental" and meta["attached"].value == 10
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:  # the full re-link's decisions
        applied = {rule for rule, on in con.sql("select rule, applied from refusal_rules").fetchall() if on}
    assert applied and set(meta["refusals"].value) == applied  # the attach applied the same rules
    after = _keys(hub)
    assert all(after[t] == k for t, k in before.items())  # nobody moved
    assert set(after) == set(later["record_token"])


def _linked_city(hub, instance) -> dict[str, str]:
    """A small city linked once (in full); its record_token -> person_key."""
    records, _ = people(150, seed=6)
    write_identity_db(hub.paths.identity_db, records)
    assert _materialize(hub, instance, ["linkage/person_keys"]).success
    return _keys(hub)


def _nightly_job(hub) -> dg.JobDefinition:
    return dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=[full_relink_job],
                          resources={"hub": hub}).resolve_job_def("full_relink_job")


@pytest.mark.slow
def test_nightly_job_relinks_in_full_and_keeps_keys(hub, instance):
    before = _linked_city(hub, instance)
    result = _nightly_job(hub).execute_in_process(instance=instance)
    assert result.success
    meta = result.asset_materializations_for_node("linkage__person_keys")[0].metadata
    assert meta["mode"].value == "full"
    after = _keys(hub)
    assert sum(after[t] == k for t, k in before.items()) / len(before) >= 0.999
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        spine = con.sql("select * from spine.person_spine").pl()
    assert spine.height == len(set(after.values()))


@pytest.mark.slow
def test_the_nightly_relink_holds_a_queued_merge_until_a_reviewer_agrees(hub, instance):
    from hub_assets.linkage.review import record_decision

    keys = _linked_city(hub, instance)
    # As an attach leaves it: one record of a person under a second key, queued for review.
    person = pl.DataFrame({"record_token": list(keys), "person_key": list(keys.values())})
    key, token = (person.group_by("person_key").agg(pl.col("record_token").sort())
                  .filter(pl.col("record_token").list.len() >= 2).sort("person_key")
                  .select("person_key", pl.col("record_token").list.first()).row(0))
    with duckdb.connect(str(hub.paths.identity_db)) as con:
        con.execute("update person_keys set person_key = 'queued-key' where record_token = ?", [token])
        con.execute("insert into review_queue values (?, 'queued-key', ['queued-key', ?], 0.99, "
                    "'matches more than one existing person', now())", [token, key])
    job = _nightly_job(hub)

    result = job.execute_in_process(instance=instance)
    meta = result.asset_materializations_for_node("linkage__person_keys")[0].metadata
    assert meta["pairs_kept_apart"].value == 1 and meta["awaiting_review"].value == 1
    held = _keys(hub)
    assert held[token] == "queued-key" and key in held.values()  # both people kept, apart

    with duckdb.connect(str(hub.paths.identity_db)) as con:
        record_decision(con, token, "merge", by="test reviewer")
    result = job.execute_in_process(instance=instance)
    meta = result.asset_materializations_for_node("linkage__person_keys")[0].metadata
    assert meta["pairs_kept_apart"].value == 0 and meta["awaiting_review"].value == 0
    merged = _keys(hub)
    assert merged[token] == key and "queued-key" not in merged.values()
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        assert con.sql("select count(*) from key_events where event = 'merge' and before_key = 'queued-key'"
                       ).fetchall()[0][0] == 1


def test_the_crosswalk_check_counts_unmapped_repeated_and_extra_tokens(hub):
    with private_files(), duckdb.connect(str(hub.paths.identity_db)) as con:  # owner-only, as the hub makes it
        con.execute("create table current_records as select 't' || i as record_token from range(5) r(i)")
    with duckdb.connect(str(hub.paths.warehouse_db)) as con:
        con.execute("create schema spine")
        con.execute("create table spine.person_crosswalk as "
                    "select 't' || i as record_token, 'P' || i as person_key from range(5) r(i)")
    assert every_record_mapped_once(hub=hub).passed
    with duckdb.connect(str(hub.paths.warehouse_db)) as con:
        con.execute("delete from spine.person_crosswalk where record_token = 't0'")
        con.execute("insert into spine.person_crosswalk values ('t1', 'P9'), ('t1', 'P8'), ('gone', 'P7')")
    result = every_record_mapped_once(hub=hub)
    assert not result.passed
    assert {k: v.value for k, v in result.metadata.items()} == {
        "unmapped": 1, "mapped_more_than_once": 1, "not_current": 1}
