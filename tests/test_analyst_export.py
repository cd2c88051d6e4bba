"""``hub export-analyst OUT --agreement ID``: only the agreement's sources, the spine and the
models that use them; no identity-zone table, no record tokens; every combination of birth
period, sex, race/ethnicity and area describes at least k people; the k distribution and what
was generalised are written beside the export; the export passes the identifier scan and is
audited (with the identity-zone read its scan makes)."""

import json

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from hub_assets.cli import main
from hub_assets.disclosure.k_anonymity import QUASI_IDENTIFIERS, discernibility, k_anonymise, lattice
from hub_assets.governance import audit
from hub_assets.governance.analyst_export import _select
from hub_assets.identifier_scan.scan import scan_database
from hub_assets.settings import private_files

HOODS = ["Hamilton", "Waverly", "Canton", "Oldtown"]
RACES = ["BLACK", "WHITE", "HISPANIC", "ASIAN", "MENA"]


def _spine(n: int) -> pl.DataFrame:
    """A small city's spine: deterministic, with plenty of people unique on the raw values."""
    return pl.DataFrame({
        "person_key": [f"P{i:04d}" for i in range(n)],
        "birth_year": [2004 + (i * 7) % 14 for i in range(n)],
        "birth_month": [1 + (i * 5) % 12 for i in range(n)],
        "sex": ["F" if i % 3 else "M" for i in range(n)],
        "race_ethnicity": [RACES[(i * 3) % 5] if i % 4 else "BLACK" for i in range(n)],
        "neighbourhood": [HOODS[(i * 11) % 4] for i in range(n)],
    })


def _manifest(path):
    def model(name, schema, deps):
        return {"resource_type": "model", "name": name, "schema": schema, "fqn": ["youth_data_hub", name],
                "depends_on": {"nodes": deps}}
    nodes = {
        "model.h.stg_rec_parks__registrations": model(
            "stg_rec_parks__registrations", "staging",
            ["source.h.raw.rec_parks", "model.h.stg_spine__person_crosswalk"]),
        "model.h.stg_child_welfare__placements": model("stg_child_welfare__placements", "staging",
                                                       ["source.h.raw.child_welfare"]),
        "model.h.stg_spine__person_crosswalk": model("stg_spine__person_crosswalk", "staging",
                                                     ["source.h.spine.person_crosswalk"]),
        "model.h.summer": model("summer", "marts", ["model.h.stg_rec_parks__registrations"]),
        "model.h.crossover": model("crossover", "marts", ["model.h.stg_rec_parks__registrations",
                                                          "model.h.stg_child_welfare__placements"]),
    }
    sources = {f"source.h.{g}.{n}": {"name": n, "source_name": g}
               for g, n in (("raw", "rec_parks"), ("raw", "child_welfare"), ("spine", "person_crosswalk"))}
    path.write_text(json.dumps({"nodes": nodes, "sources": sources}))
    return path


@pytest.fixture
def city(tmp_path, monkeypatch):
    """A built hub in miniature: 300 people in rec_parks, 40 of them also in child welfare."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HUB_DBT_MANIFEST", str(_manifest(tmp_path / "manifest.json")))
    spine = _spine(300)
    with private_files(), duckdb.connect(str(data / "identity.duckdb")) as con:
        con.execute("create table records as select 'tok1' record_token, 'rec_parks' source, 'RP-000101' record_id, "
                    "'JAMAL' first_name, 'WASHINGTON' last_name, date '2009-03-14' dob, '1204 N CHARLES ST' address")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema raw; create schema staging; create schema spine; create schema marts")
        con.register("people", spine.to_arrow())
        con.execute("create table spine.person_spine as select *, ['rec_parks', 'child_welfare'] systems, "
                    "3 n_records from people")
        con.execute("create table spine.person_crosswalk as select 't' || person_key record_token, person_key, "
                    "'rec_parks' source from people union all select 'c' || person_key, person_key, "
                    "'child_welfare' from people where person_key < 'P0040'")
        con.execute("create table staging.stg_spine__person_crosswalk as select * from spine.person_crosswalk")
        con.execute("create table raw.rec_parks as select 't' || person_key record_token, 'SWIM' program from people")
        con.execute("create table staging.stg_rec_parks__registrations as select person_key, 't' || person_key "
                    "record_token, 'SWIM' program, neighbourhood, race_ethnicity, 2025 - birth_year age from people")
        con.execute("create table staging.stg_child_welfare__placements as select person_key, 'KINSHIP' "
                    "placement_type from people where person_key < 'P0040'")
        con.execute("create table marts.summer as select neighbourhood, count(*) participants from people group by 1")
        con.execute("create table marts.crossover as select 40 crossover_youth")
    return data


def _export(data, out, *extra):
    # The planted warehouse is not the dbt project: its lineage is the planted manifest's.
    return CliRunner().invoke(main, ["export-analyst", str(out), "--agreement", "DSA-2025-01-summer",
                                     "--lineage", "manifest", "--purpose", "summer analysis",
                                     "--data-dir", str(data), *extra])


def test_export_carries_only_the_agreements_sources_and_models_without_tokens(city, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_USER", "analyst-handover")
    out = tmp_path / "handover" / "analyst.duckdb"
    result = _export(city, out)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_schema || '.' || table_name from information_schema.tables "
                                            "order by 1").fetchall()]
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        sources = {r[0] for r in con.execute("select distinct source from spine.person_crosswalk").fetchall()}
        systems = {s for r in con.execute("select systems from spine.person_spine").fetchall() for s in r[0]}
    # child welfare is not in the summer agreement: not its staging, not a mart using it, not a
    # trace of it in the spine
    assert tables == ["marts.summer", "spine.person_crosswalk", "spine.person_spine",
                      "staging.stg_rec_parks__registrations", "staging.stg_spine__person_crosswalk"]
    assert sources == {"rec_parks"} and systems == {"rec_parks"}
    assert not any("record_token" in c for c in columns) and "n_records" not in columns
    assert scan_database(out, city / "identity.duckdb") == []
    events = audit.read_log(city)
    assert [e["action"] for e in events] == [audit.IDENTITY_ACCESS, "analyst_export"]
    assert events[0]["purpose"] == "summer analysis" and events[1]["digest"] == audit.sha256_file(out)
    assert {e["who"] for e in events} == {"analyst-handover"}


def test_export_meets_k_and_reports_its_k_distribution(city, tmp_path):
    out = tmp_path / "analyst.duckdb"
    assert _export(city, out).exit_code == 0
    report = json.loads((tmp_path / "analyst.k_report.json").read_text())
    k = report["k"]
    assert k == 11  # governance.yaml: the publication threshold plus one
    with duckdb.connect(str(out), read_only=True) as con:
        spine = con.sql("select * from spine.person_spine").pl()
        staged = con.sql("select * from staging.stg_rec_parks__registrations").pl()
    sizes = spine.group_by(QUASI_IDENTIFIERS).len()["len"]
    assert sizes.min() >= k and spine.height == 300
    assert report["smallest_class"] == sizes.min()
    assert {int(s): n for s, n in report["k_distribution"].items()} == dict(
        zip(*sizes.value_counts().sort("len").to_dict(as_series=False).values()))
    assert set(report["levels"]) == set(QUASI_IDENTIFIERS)
    assert "staging.stg_rec_parks__registrations.neighbourhood" in report["generalised_columns"]
    # A person-keyed table carries the person's generalised values, not the detailed ones.
    # An exact age is kept only while birth months are: it is finer than any coarser period.
    months = report["levels"]["birth_period"] == "month"
    assert ("age" in staged.columns) == months
    assert ("staging.stg_rec_parks__registrations.age" in report["generalised_columns"]) != months
    joined = staged.join(spine, on="person_key", suffix="_spine")
    assert (joined["neighbourhood"] == joined["area"]).all()
    assert (joined["race_ethnicity"] == joined["race_ethnicity_spine"]).all()
    # Before generalisation most of these people were unique on the raw values.
    raw = _spine(300).group_by("birth_year", "birth_month", "sex", "race_ethnicity", "neighbourhood").len()
    assert (raw["len"] < k).sum() > 0


def test_an_unknown_agreement_is_refused_by_name(city, tmp_path):
    result = CliRunner().invoke(main, ["export-analyst", str(tmp_path / "x.duckdb"), "--agreement", "DSA-nope",
                                       "--purpose", "p", "--data-dir", str(city)])  # refused before compiling
    assert result.exit_code != 0 and "DSA-nope" in result.output and not (tmp_path / "x.duckdb").exists()


def test_an_export_that_would_leak_is_deleted_and_refused(city, tmp_path):
    out = tmp_path / "analyst.duckdb"
    with duckdb.connect(str(city / "warehouse.duckdb")) as con:
        con.execute("create or replace table marts.summer as select 'Hamilton' neighbourhood, "
                    "'1204 N CHARLES ST' home")
    result = _export(city, out)
    assert result.exit_code == 1 and "marts.summer.home" in result.output
    assert not out.exists() and not (tmp_path / "analyst.k_report.json").exists()


def test_generalisation_is_deterministic_climbs_the_hierarchy_and_suppresses_within_budget():
    spine = _spine(500)
    first, again = k_anonymise(spine, 11, 0.05), k_anonymise(spine.reverse(), 11, 0.05)
    assert first.people.equals(again.people) and first.levels == again.levels
    assert first.smallest_class >= 11 and first.suppressed_people <= 25
    assert first.levels != lattice()[0]  # the raw values did not meet k
    # A smaller k loses no more information (discernibility) than a larger one.
    assert discernibility(k_anonymise(spine, 2, 0.05).people) <= discernibility(first.people)
    # Suppressed people form one class of at least k, never a small one.
    hidden = first.people.filter(pl.all_horizontal(pl.col(q) == "*" for q in QUASI_IDENTIFIERS)).height
    assert hidden == 0 or hidden >= 11


def test_ages_and_birth_dates_are_left_out_of_person_tables_unless_birth_months_are_kept():
    columns = ["person_key", "age", "age_band_at_first_contact", "mother_age_at_birth", "child_birth_year",
               "birth_date", "program", "summer_year"]
    coarse, dropped = _select("intermediate", "int_x", columns, {"rec_parks"}, keep_birth_detail=False)
    assert dropped == columns[1:6] and coarse == 't."person_key", t."program", t."summer_year"'
    fine, _ = _select("intermediate", "int_x", columns, {"rec_parks"}, keep_birth_detail=True)
    assert '"age"' in fine and '"birth_date"' in fine
    aggregate, none = _select("marts", "m", ["age_band", "participants"], {"rec_parks"}, keep_birth_detail=False)
    assert none == [] and '"age_band"' in aggregate  # counts by age band are not about one person


def test_scope_follows_what_the_compiled_sql_reads_not_only_depends_on():
    from hub_assets.governance.export_scope import in_scope, lineage_from_compiled, lineage_from_manifest
    from hub_assets.governance.lineage import CompiledProject

    def model(name, schema, sql, deps):
        return {"resource_type": "model", "name": name, "schema": schema, "database": "warehouse",
                "compiled_code": sql, "depends_on": {"nodes": deps}}
    nodes = {
        "model.h.stg_rec_parks__registrations": model(
            "stg_rec_parks__registrations", "staging", 'select * from "warehouse"."raw"."rec_parks"',
            ["source.h.raw.rec_parks"]),
        "model.h.summer": model("summer", "marts", "select * from warehouse.staging.stg_rec_parks__registrations",
                                ["model.h.stg_rec_parks__registrations"]),
        # declares only rec_parks, but its SQL reads child welfare by a hard-coded name
        "model.h.summer_sneaky": model(
            "summer_sneaky", "marts", "select s.* from warehouse.staging.stg_rec_parks__registrations s "
            "join raw.child_welfare c using (record_token)", ["model.h.stg_rec_parks__registrations"]),
        "model.h.summer_identity": model("summer_identity", "marts", "select * from identity.main.records", []),
    }
    sources = {f"source.h.raw.{a}": {"name": a, "source_name": "raw", "schema": "raw", "database": "warehouse"}
               for a in ("rec_parks", "child_welfare")}
    project = CompiledProject({"nodes": nodes, "sources": sources}, {})
    agencies = {"rec_parks", "child_welfare"}
    allowed = {"rec_parks", "spine"}
    compiled = in_scope(lineage_from_compiled(project, agencies), allowed)
    assert set(compiled) == {"staging.stg_rec_parks__registrations", "marts.summer"}
    # The manifest alone would have let the hard-coded read through.
    assert "marts.summer_sneaky" in in_scope(lineage_from_manifest({"nodes": nodes, "sources": sources}, agencies),
                                             allowed)


def test_the_subpopulations_export_leaves_out_every_model_reaching_behavioral_health():
    """The subpopulations agreement lists behavioral health (for its public table held to the
    stricter threshold), yet its analyst export carries no model reaching it: the source rule
    (analyst_export: false) takes it out of scope, as export_analyst computes it."""
    from hub_assets.dbt.manifest import load_manifest
    from hub_assets.governance.agreements import load_governance
    from hub_assets.governance.analyst_export import find_agreement
    from hub_assets.governance.export_scope import in_scope, lineage_from_manifest

    governance = load_governance()
    agreement = find_agreement(governance, "DSA-2026-07-subpopulations")
    assert "behavioral_health" in agreement.sources and "behavioral_health" in governance.never_exported
    lineage = lineage_from_manifest(load_manifest(), set(governance.agencies))
    allowed = (set(agreement.sources) | set(governance.shared_sources)) - governance.never_exported
    scope = set(in_scope(lineage, allowed))
    reaching = {relation for relation, reached in lineage.items() if "behavioral_health" in reached}
    assert {"staging.stg_behavioral_health__encounters", "intermediate.int_subpopulations_behavioral_health",
            "marts.headline_rates_by_behavioral_health"} <= reaching
    assert not scope & reaching
    assert {"intermediate.int_subpopulations", "intermediate.int_headline_measures",
            "marts.headline_rates_by_subpopulation"} <= scope
