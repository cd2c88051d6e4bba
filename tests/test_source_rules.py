"""Sources held to stricter rules (governance.yaml ``source_rules``): behavioral health records,
under 42 CFR Part 2, raise the disclosure threshold of every table reaching them (and of no other
table of the release) and never leave in an analyst export, whatever agreement lists them."""

from __future__ import annotations

import json

import duckdb
import pytest
import yaml
from click.testing import CliRunner
from test_analyst_export import _manifest, city  # noqa: F401  (the miniature built hub)

from hub_assets.cli import main
from hub_assets.governance.agreements import load_governance, parse_governance, use_case_min_cell_size
from hub_assets.settings import GOVERNANCE_FILE

AGREEMENT = "DSA-2025-01-summer"


def _raw():
    return yaml.safe_load(GOVERNANCE_FILE.read_text())


def test_behavioral_health_is_held_to_a_higher_threshold_and_kept_from_analyst_exports():
    governance = load_governance()
    rule = governance.source_rules["behavioral_health"]
    assert "42 CFR Part 2" in rule.basis
    assert rule.min_cell_size > governance.min_cell_size
    assert governance.min_cell_size_for({"city_schools", "behavioral_health"}) == rule.min_cell_size
    assert governance.min_cell_size_for({"city_schools"}) == governance.min_cell_size
    assert governance.never_exported == {"behavioral_health"}


@pytest.mark.parametrize("rule, message", [
    ({"tax_records": {"basis": "x"}}, r"source_rules.tax_records: no agency declares 'tax_records'"),
    ({"behavioral_health": {"basis": "x", "min_cell_size": 5}}, r"min_cell_size 5 is below the hub's 10"),
    ({"behavioral_health": {"min_cell_size": 20}}, r"source_rules.behavioral_health: needs basis"),
    ({"behavioral_health": {"basis": "x", "analyst_export": "no"}}, r"analyst_export is true or false"),
])
def test_a_source_rule_may_only_be_stricter_and_must_say_why(rule, message):
    with pytest.raises(ValueError, match=message):
        parse_governance({**_raw(), "source_rules": rule})


def _mart_manifest(dep_source: str) -> dict:
    """One use-case mart -> intermediate -> staging -> raw.<dep_source>."""
    def model(name, layer, deps, meta=None):
        return {"resource_type": "model", "name": name, "fqn": ["h", layer, name], "config": {"meta": meta or {}},
                "depends_on": {"nodes": deps}}
    return {"nodes": {
        "model.h.study_by_group": model("study_by_group", "marts", ["model.h.int_study"], {"use_case": "study"}),
        "model.h.int_study": model("int_study", "intermediate", ["model.h.stg_x"]),
        "model.h.stg_x": model("stg_x", "staging", [f"source.h.raw.{dep_source}"]),
    }, "sources": {f"source.h.raw.{dep_source}": {"name": dep_source, "source_name": "raw"}}}


def test_a_use_cases_tables_take_the_threshold_of_the_strictest_source_they_reach():
    governance = load_governance()
    assert use_case_min_cell_size(governance, _mart_manifest("behavioral_health"), "study") == 20
    assert use_case_min_cell_size(governance, _mart_manifest("hmis"), "study") == governance.min_cell_size


def _with_behavioral_health(city, tmp_path, monkeypatch, analyst_export: bool):  # noqa: F811
    """The miniature hub with behavioral health encounters for 30 of its people, an agreement
    that lists them, and the source rule as given."""
    raw = _raw()
    for agreement in raw["agreements"]:
        if agreement["id"] == AGREEMENT:
            agreement["sources"] = [*agreement["sources"], "behavioral_health"]
    raw["source_rules"]["behavioral_health"]["analyst_export"] = analyst_export
    governance = tmp_path / "governance.yaml"
    governance.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(governance))
    manifest = json.loads(_manifest(tmp_path / "manifest.json").read_text())
    manifest["nodes"]["model.h.stg_behavioral_health__encounters"] = {
        "resource_type": "model", "name": "stg_behavioral_health__encounters", "schema": "staging",
        "fqn": ["youth_data_hub", "stg_behavioral_health__encounters"],
        "depends_on": {"nodes": ["source.h.raw.behavioral_health"]}}
    manifest["sources"]["source.h.raw.behavioral_health"] = {"name": "behavioral_health", "source_name": "raw"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with duckdb.connect(str(city / "warehouse.duckdb")) as con:
        con.execute("create table staging.stg_behavioral_health__encounters as select person_key, "
                    "'SUD_OUTPATIENT' program_type, true substance_use from spine.person_spine "
                    "where person_key < 'P0030'")
        con.execute("update spine.person_spine set systems = list_append(systems, 'behavioral_health') "
                    "where person_key < 'P0030'")
    out = tmp_path / "analyst.duckdb"
    result = CliRunner().invoke(main, ["export-analyst", str(out), "--agreement", AGREEMENT, "--lineage", "manifest",
                                       "--purpose", "summer analysis", "--data-dir", str(city)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_schema || '.' || table_name "
                                            "from information_schema.tables").fetchall()}
        systems = {s for r in con.execute("select systems from spine.person_spine").fetchall() for s in r[0]}
    return tables, systems


def test_no_analyst_export_carries_behavioral_health_even_when_its_agreement_lists_it(city, tmp_path,  # noqa: F811
                                                                                       monkeypatch):
    tables, systems = _with_behavioral_health(city, tmp_path, monkeypatch, analyst_export=False)
    assert "staging.stg_behavioral_health__encounters" not in tables
    assert "staging.stg_rec_parks__registrations" in tables
    assert "behavioral_health" not in systems


def test_without_the_rule_the_same_export_would_carry_it(city, tmp_path, monkeypatch):  # noqa: F811
    """The control: it is the source rule, not the agreement, that keeps the rows out."""
    tables, systems = _with_behavioral_health(city, tmp_path, monkeypatch, analyst_export=True)
    assert "staging.stg_behavioral_health__encounters" in tables
    assert "behavioral_health" in systems


def _release_reaching(source: str, tmp_path, monkeypatch, hub_resource):
    """Release the disclosure tests' planted mart, its counts by neighbourhood 15, 60, 18 and 90,
    with its lineage reaching ``source``, under an agreement that lists it."""
    import dagster as dg
    import polars as pl
    from test_disclosure_checks import MART, _checks, _defs, _run
    from test_disclosure_checks import _manifest as _mart

    raw = _raw()
    for agreement in raw["agreements"]:
        if agreement["id"] == AGREEMENT:
            agreement["sources"] = [*agreement["sources"], source]
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    manifest = _mart(tmp_path)
    manifest["nodes"][f"model.hub.{MART}"]["depends_on"]["nodes"].append(f"source.hub.raw.{source}")
    manifest["sources"][f"source.hub.raw.{source}"] = {"name": source, "source_name": "raw"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(_defs(manifest, hub_resource), instance)
    assert result.success and all(_checks(result).values()), _checks(result)
    published = pl.read_parquet(hub_resource.paths.public / "summer_engagement" / f"{MART}.parquet")
    return set(published.filter(pl.col("participants_suppressed"))["neighbourhood"])


def test_a_published_table_reaching_behavioral_health_hides_counts_up_to_its_threshold(tmp_path, monkeypatch):
    hub_resource = _planted_hub(tmp_path, monkeypatch)
    suppressed = _release_reaching("behavioral_health", tmp_path, monkeypatch, hub_resource)
    assert {"A", "C"} <= suppressed  # 15 and 18: both at most 20


def test_the_same_table_reaching_only_ordinary_sources_shows_counts_of_15_and_18(tmp_path, monkeypatch):
    hub_resource = _planted_hub(tmp_path, monkeypatch)
    suppressed = _release_reaching("hmis", tmp_path, monkeypatch, hub_resource)
    assert suppressed == set()  # every count is above the hub's threshold of 10


def _planted_hub(tmp_path, monkeypatch):
    import test_disclosure_checks

    hub_resource = test_disclosure_checks.hub.__wrapped__(tmp_path, monkeypatch)
    with hub_resource.warehouse() as con:
        con.execute(f"create or replace table marts.{test_disclosure_checks.MART} as select * from (values "
                    "('A', 15, 200, 0.075), ('B', 60, 200, 0.3), ('C', 18, 200, 0.09), ('D', 90, 200, 0.45)) "
                    "t(neighbourhood, participants, enrolled_youth, participation_rate)")
    return hub_resource


def test_in_one_release_only_the_table_reaching_behavioral_health_is_held_to_its_threshold(tmp_path, monkeypatch):
    """Two tables of one use case in one release, the same counts (15, 60, 18, 90): the one whose
    lineage reaches behavioral health hides 15 and 18, the other shows them; the checks read each
    at its own threshold, and release.json and the dictionary say so per table."""
    import dagster as dg
    import polars as pl
    from test_disclosure_checks import MART, _checks, _run
    from test_disclosure_checks import _manifest as _mart

    from hub_assets.defs.disclosure.assets import FINDINGS_KEY
    from hub_assets.defs.disclosure.definitions import public_definitions
    from hub_assets.disclosure.release import current_publication, current_release

    bh_mart = "youth_served_by_neighbourhood"
    hub_resource = _planted_hub(tmp_path, monkeypatch)
    with hub_resource.warehouse() as con:
        con.execute(f"create table marts.{bh_mart} as select * from (values "
                    "('A', 15), ('B', 60), ('C', 18), ('D', 90)) t(neighbourhood, youth_served)")
    raw = _raw()
    for agreement in raw["agreements"]:
        if agreement["id"] == AGREEMENT:
            agreement["sources"] = [*agreement["sources"], "behavioral_health"]
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    manifest = _mart(tmp_path)
    manifest["nodes"][f"model.hub.{bh_mart}"] = {
        "resource_type": "model", "name": bh_mart, "schema": "marts", "alias": bh_mart,
        "fqn": ["hub", "marts", "summer_engagement", bh_mart], "description": "Youth served, by CSA.",
        "depends_on": {"nodes": ["source.hub.raw.behavioral_health", "source.hub.spine.person_spine"]},
        "config": {"meta": {"use_case": "summer_engagement", "publish": {
            "dimensions": ["neighbourhood"], "exclusive": ["neighbourhood"], "counts": ["youth_served"]}}}}
    manifest["sources"]["source.hub.raw.behavioral_health"] = {"name": "behavioral_health", "source_name": "raw"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    keys = [dg.AssetKey(["public", name]) for name in (MART, bh_mart)]
    defs = dg.Definitions.merge(
        public_definitions(manifest, key_of=lambda m, uid: dg.AssetKey(["marts", uid.split(".")[-1]])),
        dg.Definitions(assets=[dg.AssetSpec(dg.AssetKey(["marts", n])) for n in (MART, bh_mart)],
                       jobs=[dg.define_asset_job("release", selection=dg.AssetSelection.assets(*keys, FINDINGS_KEY)),
                             dg.define_asset_job("checks", selection=dg.AssetSelection.checks_for_assets(*keys))],
                       resources={"hub": hub_resource}))
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(defs, instance)
        assert result.success and all(_checks(result).values()), _checks(result)
        checks = _checks(_run(defs, instance, checks_only=True))
    assert all(checks.values()), checks
    folder = hub_resource.paths.public / "summer_engagement"
    ordinary, stricter = (pl.read_parquet(folder / f"{n}.parquet") for n in (MART, bh_mart))
    assert ordinary.filter(pl.col("participants_suppressed")).height == 0
    assert ordinary.filter(pl.col("neighbourhood") == "A")["participants"].to_list() == [15]
    assert {"A", "C"} <= set(stricter.filter(pl.col("youth_served_suppressed"))["neighbourhood"])
    record = json.loads((current_release(hub_resource.paths.public) / "release.json").read_text())
    assert record["min_cell_size"] == 10
    assert {n: t["min_cell_size"] for n, t in record["tables"].items()} == {MART: 10, bh_mart: 20}
    assert current_publication(hub_resource.paths.public, 10).threshold_of(bh_mart) == 20
    dictionary = (folder / "data_dictionary.md").read_text()
    assert "| participants | count of people | empty when 1-10 " in dictionary
    assert "| youth_served | count of people | empty when 1-20 " in dictionary
    assert f"The table {bh_mart} draws on records the law protects more strictly" in dictionary
    page = (hub_resource.paths.public / "findings" / "index.html").read_text()
    assert "a count from 1 to 20 people is never shown" in page


def test_a_release_that_recorded_one_threshold_is_read_with_it_for_every_table(tmp_path):
    from hub_assets.disclosure.release import publication_of

    (tmp_path / "release.json").write_text(json.dumps({"min_cell_size": 20, "rounding_base": 5, "tables": {
        "a": {"use_case": "u", "rows": 3}}}))
    publication = publication_of(tmp_path, {"a": 10, "b": 10})
    assert (publication.threshold_of("a"), publication.threshold_of("b"), publication.rounding_base) == (20, 20, 5)
    (tmp_path / "release.json").write_text(json.dumps({"rounding_base": None}))  # before thresholds were recorded
    assert publication_of(tmp_path, {"a": 10, "b": 20}).threshold_of("b") == 20
    assert publication_of(tmp_path, 10).threshold_of("b") == 10
