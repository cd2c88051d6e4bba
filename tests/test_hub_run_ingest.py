"""``hub run``'s ingest stage: one run per agency for its new drops; a drop that cannot be read
still fails alone and by name, and the agency's other drops load."""

import dagster as dg
import duckdb

from hub_assets.defs.sources.definitions import agency_sources
from hub_assets.run import HubRunReport, _ingest_agency
from hub_assets.runtime.register import register_new_drops
from hub_assets.sources.tokens import drop_token


def ingest(hub, instance, agency):
    defs = dg.Definitions.merge(agency_sources(), dg.Definitions(resources={"hub": hub}))
    drop_ids = register_new_drops(instance, hub)[agency]
    report = HubRunReport()
    done = _ingest_agency(defs, instance, report, agency, drop_ids, 0, len(drop_ids))
    assert done == len(drop_ids)
    return drop_ids, report


def warehouse_drops(hub, agency):
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        counts = dict(con.execute(f"select drop_token, count(*) from raw.{agency} group by 1").fetchall())
    # The warehouse knows drops by token; the key says which token is which drop.
    names = {drop_token(hub.key(), agency, d): d for d in identity_drop_ids(hub, agency)}
    return {names[t]: n for t, n in counts.items()}


def identity_drop_ids(hub, agency):
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        return [r[0] for r in con.execute("select drop_id from drops where agency = ?", [agency]).fetchall()]


def test_an_agencys_new_drops_load_in_one_run(hub, instance, write_drop):
    for month, n in (("09", 3), ("10", 4), ("11", 2)):
        write_drop("hmis", f"hmis_enrollments_2024_{month}.csv", n=n)

    drop_ids, report = ingest(hub, instance, "hmis")

    assert [(o.label.split(" (")[0], o.ok) for o in report.outcomes] == [("ingest hmis 3 drops", True)]
    assert len(instance.get_run_records()) == 1
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "hmis"])) == set(drop_ids)
    assert warehouse_drops(hub, "hmis") == dict(zip(drop_ids, (3, 4, 2)))


def test_a_bad_drop_fails_alone_by_name_and_the_others_load(hub, instance, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    write_drop("hmis", "hmis_enrollments_2024_10.csv", raw=b"")
    write_drop("hmis", "hmis_enrollments_2024_11.csv", n=2)

    drop_ids, report = ingest(hub, instance, "hmis")

    assert [(o.label, o.ok) for o in report.outcomes] == [
        ("ingest hmis hmis_enrollments_2024_09.csv", True), ("ingest hmis hmis_enrollments_2024_10.csv", False),
        ("ingest hmis hmis_enrollments_2024_11.csv", True)]
    failure = report.failures[0].error
    assert "agency hmis" in failure and "hmis_enrollments_2024_10.csv" in failure and "empty" in failure
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "hmis"])) == {drop_ids[0], drop_ids[2]}
    assert warehouse_drops(hub, "hmis") == {drop_ids[0]: 3, drop_ids[2]: 2}
