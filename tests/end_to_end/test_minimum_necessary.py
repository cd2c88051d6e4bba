"""After a real build of the fixture city: no agency-assigned identifier (column or value) in any
warehouse table, the stores meet the permission contract, and an analyst export for one
agreement meets its k and carries nothing the agreement does not cover."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from hub_assets.cli import main
from hub_assets.dbt.manifest import load_manifest, sources_reached
from hub_assets.disclosure.k_anonymity import QUASI_IDENTIFIERS
from hub_assets.governance import audit
from hub_assets.governance.agreements import load_governance
from hub_assets.governance.analyst_export import BIRTH_DERIVED
from hub_assets.identifier_scan.scan import scan_database
from hub_assets.settings import require_private
from hub_assets.sources.declaration import identifier_column_names, load_agencies

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]

AGREEMENT = "DSA-2025-01-summer"


def _tables(con):
    return con.execute("select table_schema, table_name from information_schema.tables "
                       "where table_schema not in ('information_schema', 'pg_catalog') order by all").fetchall()


def test_no_agency_assigned_identifier_is_in_any_warehouse_table(built_hub):
    assert built_hub.returncode == 0, built_hub.output[-4000:]
    with duckdb.connect(str(built_hub.paths.identity_db), read_only=True) as con:
        held = con.sql("select agency, column_name, value from identifiers").pl()
        drop_ids = {r[0] for r in con.execute("select drop_id from drops").fetchall()}
    # The declared identifiers of every agency that has them were received and kept back.
    declared = {(s.name, c.file_name) for s in load_agencies() for c in s.content if c.identifier}
    assert declared == {("adult_justice", "booking_no"), ("behavioral_health", "encounter_id"),
                        ("health", "clm_id"), ("hmis", "enrollment_id"), ("hmis", "household_id"),
                        ("public_housing", "household_id"), ("rec_parks", "registration_id"),
                        ("social_services", "case_no"), ("wage_records", "employer_id")}
    assert set(held.select("agency", "column_name").unique().rows()) == declared
    values = {v.upper() for v in held["value"]} | {d.upper() for d in drop_ids}
    forbidden = identifier_column_names()
    with duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True) as con:
        tables = _tables(con)
        assert len(tables) > 30
        for schema, table in tables:
            columns = con.execute(f'describe "{schema}"."{table}"').fetchall()
            assert not {c for c, *_ in columns} & forbidden, f"{schema}.{table}"
            for column, type_, *_ in columns:
                if type_ != "VARCHAR":
                    continue
                found = {r[0] for r in con.execute(
                    f'select distinct upper("{column}") from "{schema}"."{table}"').fetchall()} & values
                assert not found, f"{schema}.{table}.{column} holds agency-assigned IDs {sorted(found)[:3]}"
        # Household linkage still works, on tokens: members of one household share its token.
        shared = con.execute("select count(*) from (select household_token from "
                             "staging.stg_public_housing__household_members group by 1 "
                             "having count(distinct person_key) > 1)").fetchone()[0]
        assert shared > 0
    assert scan_database(built_hub.paths.warehouse_db, built_hub.paths.identity_db) == []


def test_a_real_build_meets_the_permission_contract(built_hub):
    require_private(built_hub.paths)  # identity store, archive and key: the owner's only


def test_analyst_export_of_the_city_meets_k_and_leaves_out_uncovered_sources(built_hub, tmp_path):
    out = tmp_path / "summer.duckdb"
    result = CliRunner().invoke(main, ["export-analyst", str(out), "--agreement", AGREEMENT, "--purpose",
                                       "summer engagement analysis", "--data-dir", str(built_hub.paths.root)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_name("summer.k_report.json").read_text())
    assert report["lineage"] == "compiled SQL"  # the scope is what the SQL really reads
    governance = load_governance()
    [agreement] = [a for a in governance.agreements.values() if a.id == AGREEMENT]
    allowed = set(agreement.sources) | set(governance.shared_sources)
    manifest = load_manifest()
    lineage = {f"{n['schema']}.{n.get('alias') or n['name']}": sources_reached(manifest, uid, set(governance.agencies))
               for uid, n in manifest["nodes"].items() if n.get("resource_type") == "model"}
    with duckdb.connect(str(out), read_only=True) as con:
        tables = [f"{s}.{t}" for s, t in _tables(con)]
        spine = con.sql("select * from spine.person_spine").pl()
        crosswalk_sources = {r[0] for r in con.execute("select distinct source from spine.person_crosswalk").fetchall()}
        person_tables = {t: con.sql(f"select * from {t}").pl() for t in tables
                         if t != "spine.person_spine" and "person_key" in
                         {c[0] for c in con.execute(f"describe {t}").fetchall()}}
    # Scope: every exported model's lineage is inside the agreement; the summer marts are there,
    # no other use case's and no staging of an uncovered agency.
    assert "marts.summer_engagement_overview" in tables
    for t in tables:
        if t in lineage:
            assert lineage[t] <= allowed, (t, lineage[t] - allowed)
    uncovered = {a for a in governance.agencies if a not in allowed}
    assert not [t for t in tables if any(f"stg_{a}__" in t for a in uncovered)]
    assert crosswalk_sources <= set(agreement.sources)
    assert {s for systems in spine["systems"] for s in systems} <= set(agreement.sources)
    # k: no combination of the quasi-identifiers describes fewer than k people.
    k = report["k"]
    sizes = spine.group_by(QUASI_IDENTIFIERS).len()["len"]
    assert k == 11 and sizes.min() >= k and report["smallest_class"] == sizes.min()
    assert sum(int(size) * n for size, n in report["k_distribution"].items()) == spine.height == report["people"]
    # Person-keyed tables add no detail the spine hides.
    for name, frame in person_tables.items():
        joined = frame.join(spine, on="person_key", how="left", suffix="__spine")
        for column in [c for c in frame.columns if c.endswith("neighbourhood")]:
            assert (joined[column] == joined["area"]).all(), f"{name}.{column}"
        if "race_ethnicity" in frame.columns:
            assert (joined["race_ethnicity"] == joined["race_ethnicity__spine"]).all(), name
        assert "birth_month" not in frame.columns, name
        if report["levels"]["birth_period"] != "month":
            assert not [c for c in frame.columns if BIRTH_DERIVED.search(c)], name
    # Before generalisation many of these people were unique on the raw values.
    with duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True) as con:
        raw = con.sql("select birth_year, birth_month, sex, race_ethnicity, neighbourhood from "
                      "spine.person_spine where person_key in (select unnest(?))",
                      params=[spine["person_key"].to_list()]).pl()
    unique_before = raw.group_by(pl.all()).len().filter(pl.col("len") == 1).height / raw.height
    assert unique_before > 0.1
    events = [e for e in audit.read_log(built_hub.paths.root) if e["action"] == audit.IDENTITY_ACCESS]
    assert events and events[-1]["purpose"] == "summer engagement analysis"
