"""Governance as code: a use case is refused when its lineage reaches a source its agreement does
not list, or when its agreement has expired; the refusal names use case, source and agreement.
Lineage is both what the manifest declares and what the compiled SQL really reads (the routes
around it, planted into real dbt builds, are in test_governance_routes.py)."""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from hub_assets.dbt.manifest import sources_reached
from hub_assets.governance.agreements import load_governance, parse_governance, refusals
from hub_assets.settings import DBT_PROJECT_DIR, GOVERNANCE_FILE

DBT = Path(sys.executable).parent / "dbt"
VIOLATING_MART = """
-- Joins wage records into a crossover mart: the crossover agreement does not cover wages.
select count(*) as crossover_youth_working
from {{ source('raw', 'wage_records') }}
"""
VIOLATING_YAML = """
version: 2
models:
  - name: crossover_youth_working
    config:
      contract: {enforced: false}
      meta:
        use_case: crossover_youth
        publish: {dimensions: [], counts: [crossover_youth_working]}
"""


@pytest.fixture(scope="module")
def parsed_with_violation(tmp_path_factory) -> dict:
    """A real ``dbt parse`` of a copy of the project with one extra, violating crossover mart."""
    project = tmp_path_factory.mktemp("dbt") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    folder = project / "models" / "marts" / "crossover_youth"
    (folder / "crossover_youth_working.sql").write_text(VIOLATING_MART)
    (folder / "_crossover_youth_working.yml").write_text(VIOLATING_YAML)
    env = {"HUB_DATA_DIR": str(project.parent), "PATH": str(DBT.parent) + ":/usr/bin:/bin",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run([str(DBT), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    return json.loads((project / "target" / "manifest.json").read_text())


@pytest.mark.slow
def test_a_mart_reaching_an_unlisted_source_is_refused(parsed_with_violation):
    problems = refusals(load_governance(), parsed_with_violation, "crossover_youth", today=dt.date(2026, 1, 1))
    assert len(problems) == 1
    assert "use case 'crossover_youth' reaches source 'wage_records' (via crossover_youth_working)" in problems[0]
    assert "agreement DSA-2025-03-crossover does not list" in problems[0]


@pytest.mark.slow
def test_lineage_walks_through_intermediate_models_to_sources(parsed_with_violation):
    uid = "model.youth_data_hub.int_crossover_youth"
    reached = sources_reached(parsed_with_violation, uid, set(load_governance().agencies))
    assert {"child_welfare", "juvenile_services"} <= reached and "wage_records" not in reached


def test_a_synthetic_mart_reaching_an_unlisted_source_is_refused():
    """The same rule on a hand-written manifest, fast: mart -> intermediate -> raw.wage_records."""
    manifest = {
        "nodes": {
            "model.h.crossover_youth_working": {"resource_type": "model", "name": "crossover_youth_working",
                                                "fqn": ["h", "marts", "crossover_youth", "crossover_youth_working"],
                                                "depends_on": {"nodes": ["model.h.int_wages"]}, "config": {}},
            "model.h.int_wages": {"resource_type": "model", "name": "int_wages", "fqn": ["h", "intermediate", "x"],
                                  "depends_on": {"nodes": ["source.h.raw.wage_records", "source.h.raw.child_welfare"]}},
        },
        "sources": {"source.h.raw.wage_records": {"name": "wage_records", "source_name": "raw"},
                    "source.h.raw.child_welfare": {"name": "child_welfare", "source_name": "raw"}},
    }
    problems = refusals(load_governance(), manifest, "crossover_youth", today=dt.date(2026, 1, 1))
    assert problems == ["use case 'crossover_youth' reaches source 'wage_records' (via crossover_youth_working), "
                        "which agreement DSA-2025-03-crossover does not list (it allows "
                        "['child_welfare', 'city_schools', 'juvenile_services'])"]


def _governance_with(**changes) -> dict:
    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    for agreement in raw["agreements"]:
        if agreement["use_case"] == "crossover_youth":
            agreement.update(changes)
    return raw


def test_only_the_table_reaching_behavioral_health_is_held_to_its_stricter_threshold(monkeypatch):
    """The subpopulations use case publishes youth served by public behavioural health in a table
    of its own: that table's lineage alone reaches behavioral_health, so it alone is held to the
    source rule's threshold; the use case's other table, and every other use case's, keep the
    hub's. Without behavioral_health in the agreement the use case is refused."""
    from hub_assets.dbt.manifest import load_manifest, published_marts
    from hub_assets.governance.agreements import table_min_cell_size, table_thresholds

    monkeypatch.delenv("HUB_MIN_CELL_SIZE", raising=False)
    governance, manifest = load_governance(), load_manifest()
    marts = published_marts(manifest)
    thresholds = table_thresholds(marts, governance, manifest)
    strict = governance.source_rules["behavioral_health"].min_cell_size
    assert strict == 20 and governance.min_cell_size == 10
    assert thresholds["headline_rates_by_behavioral_health"] == strict
    assert thresholds["headline_rates_by_subpopulation"] == governance.min_cell_size
    assert {n: t for n, t in thresholds.items() if t != governance.min_cell_size} == {
        "headline_rates_by_behavioral_health": strict}
    reaching = sorted(m.name for m in marts
                      if "behavioral_health" in sources_reached(manifest, m.unique_id, set(governance.agencies)))
    assert reaching == ["headline_rates_by_behavioral_health"]
    bh = next(m for m in marts if m.name == "headline_rates_by_behavioral_health")
    assert bh.use_case == "subpopulations" and table_min_cell_size(governance, manifest, bh.unique_id) == strict
    monkeypatch.setenv("HUB_MIN_CELL_SIZE", "30")  # the hub's own threshold, raised above every rule
    assert set(table_thresholds(marts, governance, manifest).values()) == {30}

    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    for agreement in raw["agreements"]:
        if agreement["use_case"] == "subpopulations":
            agreement["sources"].remove("behavioral_health")
    assert any("reaches source 'behavioral_health' (via headline_rates_by_behavioral_health)" in p
               for p in refusals(parse_governance(raw), manifest, "subpopulations", recorded=False))


def test_an_expired_agreement_is_refused_and_named():
    governance = parse_governance(_governance_with(expires_on="2025-12-31"))
    manifest = {"nodes": {}, "sources": {}}
    assert refusals(governance, manifest, "crossover_youth", today=dt.date(2025, 12, 31)) == []
    problems = refusals(governance, manifest, "crossover_youth", today=dt.date(2026, 1, 1))
    assert problems == ["use case 'crossover_youth': agreement DSA-2025-03-crossover expired on 2025-12-31 "
                        "(today is 2026-01-01)"]


def test_a_use_case_without_an_agreement_is_refused():
    problems = refusals(load_governance(), {"nodes": {}, "sources": {}}, "unapproved_study")
    assert problems == ["use case 'unapproved_study' has no data-sharing agreement in governance.yaml"]


def test_agreements_may_only_list_declared_agencies():
    raw = _governance_with(sources=["child_welfare", "tax_records"])
    with pytest.raises(ValueError, match=r"agreement 'DSA-2025-03-crossover' lists sources \['tax_records'\], "
                                         r"which no agency declares"):
        parse_governance(raw)


def test_agencies_and_stewards_are_the_declarations_never_a_second_list():
    from hub_assets.sources.declaration import load_agencies

    assert load_governance().agencies == {a.name: a.owner for a in load_agencies()}
    raw = _governance_with()
    raw["agencies"] = [{"name": "city_schools", "steward": "Someone else"}]
    with pytest.raises(ValueError, match=r"each agency and its steward \(owner\) are declared once"):
        parse_governance(raw)


def test_the_board_sets_what_a_relink_does_with_people_awaiting_review():
    assert load_governance().pending_review_at_relink == "hold"
    raw = _governance_with()
    raw["linkage"] = {"pending_review_at_relink": "merge"}
    assert parse_governance(raw).pending_review_at_relink == "merge"
    raw["linkage"] = {"pending_review_at_relink": "maybe"}
    with pytest.raises(ValueError, match="pending_review_at_relink must be hold or merge"):
        parse_governance(raw)


def test_expired_agreement_blocks_the_public_release_in_dagster(tmp_path, monkeypatch):
    """The governance check fails (blocking) and the public asset refuses to write anything."""
    from test_disclosure_checks import MART, _defs, _manifest, _run

    monkeypatch.setenv("HUB_DBT_MANIFEST", str(tmp_path / "manifest.json"))
    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    for agreement in raw["agreements"]:
        if agreement["use_case"] == "summer_engagement":
            agreement["expires_on"] = "2020-01-01"
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    import duckdb

    from hub_assets.defs.resources import HubResource

    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute(f"create schema marts; create table marts.{MART} as select 'A' neighbourhood, "
                    "40 participants, 80 enrolled_youth, 0.5 participation_rate")
    hub = HubResource(data_dir=str(data))
    defs = _defs(_manifest(tmp_path), hub)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(defs, instance)
        checks = _run(defs, instance, checks_only=True)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "agreement DSA-2025-01-summer expired on 2020-01-01" in str(failure.event_specific_data.error)
    assert not (hub.paths.public / "summer_engagement" / f"{MART}.csv").exists()
    evaluations = [e.asset_check_evaluation_data for e in checks.all_events
                   if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    governance = next(ev for ev in evaluations if ev.check_name == "governance_agreement")
    assert governance.passed is False and governance.metadata["agreement"].value == "DSA-2025-01-summer"


def test_the_blocking_check_on_a_mart_stops_its_public_release(tmp_path, monkeypatch):
    """With the agreement expired, the mart's governance check fails and the public asset downstream
    of it is not even started in the same run."""
    from test_disclosure_checks import MART, _manifest

    from hub_assets.defs.disclosure.assets import FINDINGS_KEY
    from hub_assets.defs.disclosure.definitions import public_definitions
    from hub_assets.defs.resources import HubResource

    monkeypatch.setenv("HUB_DBT_MANIFEST", str(tmp_path / "manifest.json"))
    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    for agreement in raw["agreements"]:
        if agreement["use_case"] == "summer_engagement":
            agreement["expires_on"] = "2020-01-01"
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    mart_key, public = dg.AssetKey(["marts", MART]), dg.AssetKey(["public", MART])
    hub = HubResource(data_dir=str(tmp_path / "data"))

    @dg.asset(key=mart_key)
    def mart(hub: HubResource) -> None:  # stands in for the dbt model
        with hub.warehouse() as con:
            con.execute(f"create schema if not exists marts; create or replace table marts.{MART} as "
                        "select 'A' neighbourhood, 40 participants, 80 enrolled_youth, 0.5 participation_rate")

    defs = dg.Definitions.merge(public_definitions(_manifest(tmp_path), key_of=lambda m, uid: mart_key),
                                dg.Definitions(assets=[mart], resources={"hub": hub}))
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=[mart_key, public, FINDINGS_KEY],
                                      raise_on_error=False)
    evaluations = {(e.asset_check_evaluation_data.asset_key, e.asset_check_evaluation_data.check_name):
                   e.asset_check_evaluation_data.passed
                   for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    assert evaluations[(mart_key, "governance_agreement")] is False
    assert result.asset_materializations_for_node("public_release") == []
    started = {e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert "public_release" not in started  # blocked by the check, not refused by the release itself
    assert not (hub.paths.public / "summer_engagement").exists()


def test_a_python_asset_that_bypasses_dbt_is_refused_by_the_dagster_graph_walk(monkeypatch, tmp_path):
    # A summer use-case asset written in Python that reads HMIS directly: no dbt model, so the
    # manifest cannot see it; only the assembled Dagster graph can.
    import dagster as dg

    from hub_assets.definitions import defs as hub_defs
    from hub_assets.defs.governance.checks import build_governance_checks, governance_result
    from hub_assets.governance.graph_lineage import graph_lineage

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    side_door = dg.AssetSpec(["marts", "summer_side_door"], deps=[dg.AssetKey(["raw", "hmis"]),
                                                                dg.AssetKey(["spine", "person_spine"])])
    check = build_governance_checks("summer_engagement", [side_door.key], "marts")
    graph = dg.Definitions.merge(hub_defs(), dg.Definitions(assets=[side_door], asset_checks=[check])
                                 ).resolve_asset_graph()

    # The walk stops at the spine (built from every agency's identity records): only HMIS counts.
    assert graph_lineage(graph, side_door.key) == {"hmis"}
    result = governance_result("summer_engagement", side_door.key, graph)
    agreement = load_governance().agreement_for("summer_engagement")
    assert not result.passed
    message = result.metadata["first_problems"].value
    assert "summer_engagement" in message and "'hmis'" in message and agreement.id in message


def test_every_published_use_case_passes_the_dagster_graph_walk(monkeypatch, tmp_path):

    from hub_assets.definitions import defs as hub_defs
    from hub_assets.governance.graph_lineage import graph_lineage

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    graph = hub_defs().resolve_asset_graph()
    public = [c.asset_key for c in graph.asset_check_keys
              if c.name == "governance_agreement" and c.asset_key.path[0] == "public"]
    assert len(public) >= 5
    for key in public:
        assert graph_lineage(graph, key), key  # every public table reaches agency sources
    from hub_assets.dbt.manifest import load_manifest, published_marts
    from hub_assets.defs.disclosure.assets import public_key
    from hub_assets.defs.governance.checks import governance_result

    use_case_of_public = {public_key(m): m.use_case for m in published_marts(load_manifest())}
    checked = {k.asset_key for c in hub_defs().asset_checks for k in c.check_keys
               if k.name == "governance_agreement" and k.asset_key.path[0] == "public"}
    assert checked == set(use_case_of_public)  # every public asset carries the check
    for key in checked:
        assert governance_result(use_case_of_public[key], key, graph).passed, key


# --- what the compiled SQL really reads (fast: sqlglot on hand-written compiled nodes) -------------

def _node(name: str, sql: str, use_case: str | None = None, schema: str = "marts", kind: str = "model") -> dict:
    fqn = ["h", "marts", use_case, name] if use_case else ["h", schema, name]
    return {"resource_type": kind, "name": name, "alias": name, "schema": schema, "database": "warehouse",
            "fqn": fqn, "original_file_path": f"models/{name}.sql", "compiled_code": sql,
            "depends_on": {"nodes": []}, "config": {}}


def _compiled(nodes: dict, hooks: dict | None = None):
    from hub_assets.governance.lineage import CompiledProject

    sources = {f"source.h.raw.{a}": {"name": a, "source_name": "raw", "schema": "raw", "database": "warehouse"}
               for a in ("child_welfare", "juvenile_services", "city_schools")}
    sources["source.h.spine.person_spine"] = {"name": "person_spine", "source_name": "spine", "schema": "spine",
                                              "database": "warehouse"}
    return CompiledProject({"nodes": {f"model.h.{k}": v for k, v in nodes.items()}, "sources": sources}, hooks or {})


def _judge(nodes: dict, hooks: dict | None = None):
    from hub_assets.governance.lineage import judge

    return judge(load_governance(), _compiled(nodes, hooks), today=dt.date(2026, 1, 1))


def test_relations_are_read_quoted_or_not_and_cte_names_are_not_relations():
    from hub_assets.governance.sql_reads import sql_reads

    sql = ('with child_welfare as (select * from "warehouse"."raw"."juvenile_services") '
           'select * from child_welfare join raw.CITY_SCHOOLS s on true '
           'where exists (select 1 from spine.person_spine)')
    assert sorted(t.parts for t in sql_reads(sql)) == [("", "raw", "city_schools"), ("", "spine", "person_spine"),
                                                       ("warehouse", "raw", "juvenile_services")]


def test_a_hard_coded_read_of_an_unlisted_agency_refuses_its_use_case_and_what_depends_on_it():
    verdict = _judge({
        "int_summer_extra": _node("int_summer_extra", 'select * from "warehouse"."raw"."child_welfare"',
                                  schema="intermediate"),
        "summer_extra": _node("summer_extra", 'select * from "warehouse"."intermediate"."int_summer_extra"',
                              use_case="summer_engagement"),
        "crossover_ok": _node("crossover_ok", "select * from raw.child_welfare", use_case="crossover_youth"),
    })
    [reason] = verdict.refused["summer_engagement"]
    assert reason.startswith("use case 'summer_engagement' reads warehouse.raw.child_welfare (source 'child_welfare')")
    assert "int_summer_extra" in reason and "DSA-2025-01-summer" in reason
    assert verdict.refusals["crossover_youth"] == []
    # The intermediate model only the refused use case needs is not built either.
    assert verdict.excluded == {"model.h.summer_extra", "model.h.int_summer_extra"}


def test_reading_another_use_cases_relation_is_refused():
    verdict = _judge({
        "summer_overview": _node("summer_overview", "select 1 as n", use_case="summer_engagement"),
        "crossover_peek": _node("crossover_peek", "select * from marts.summer_overview", use_case="crossover_youth"),
    })
    [reason] = verdict.refused["crossover_youth"]
    assert "reads marts.summer_overview, a relation of use case 'summer_engagement'" in reason
    assert "DSA-2025-03-crossover" in reason
    assert "summer_engagement" not in verdict.refused


@pytest.mark.parametrize("sql, named", [
    ("select * from identity.main.identity_records", "the identity store"),
    ("select * from identity.identity_records", "the identity store"),
    ("select * from read_parquet('/srv/hub/archive/hmis/a.parquet')", "READ_PARQUET"),
    ("select * from '/srv/hub/landing/hmis/a.csv'", "the file '/srv/hub/landing/hmis/a.csv'"),
    ("attach '/srv/hub/identity.duckdb' as ids; select 1 as n", "the ATTACH statement"),
    ("select * from other_db.main.t", "catalog 'other_db', outside the warehouse"),
    ("select * from main.scratch_copy", "no model, seed, snapshot or declared source"),
    ("select * from query('select * from raw.hmis')", "QUERY("),
])
def test_reads_outside_the_warehouse_are_refused_wherever_they_are(sql, named):
    verdict = _judge({"int_peek": _node("int_peek", sql, schema="intermediate"),
                      "crossover_peek": _node("crossover_peek", "select * from intermediate.int_peek",
                                              use_case="crossover_youth")})
    assert any(named in p for p in verdict.node_problems["model.h.int_peek"]), verdict.node_problems
    assert any(named in r for r in verdict.refused["crossover_youth"])
    assert verdict.excluded == {"model.h.int_peek", "model.h.crossover_peek"}


def test_a_hook_may_rewrite_its_own_relation_and_nothing_else():
    own = 'create or replace table "warehouse"."marts"."crossover_ok" as select * from raw.child_welfare'
    elsewhere = "create table staging.side_copy as select * from raw.child_welfare"
    passing = _judge({"crossover_ok": _node("crossover_ok", "select 1 as n", use_case="crossover_youth")},
                     {"model.h.crossover_ok": [("post-hook 1", own)]})
    assert passing.refusals["crossover_youth"] == [] and not passing.node_problems
    refused = _judge({"crossover_ok": _node("crossover_ok", "select 1 as n", use_case="crossover_youth")},
                     {"model.h.crossover_ok": [("post-hook 1", elsewhere)]})
    assert any("a write to staging.side_copy, which is not the model itself" in r and "post-hook 1" in r
               for r in refused.refused["crossover_youth"])


def test_a_project_hook_reading_an_agency_stops_the_whole_build():
    nodes = {"crossover_ok": _node("crossover_ok", "select 1 as n", use_case="crossover_youth"),
             "on_run_start": {**_node("youth_data_hub-on-run-start-0", "select count(*) from raw.hmis"),
                              "resource_type": "operation"}}
    verdict = _judge(nodes)
    assert verdict.build_refusals and "raw.hmis" in verdict.build_refusals[0]


def test_sql_governance_cannot_read_is_refused_not_passed():
    verdict = _judge({"crossover_odd": _node("crossover_odd", "select from where", use_case="crossover_youth")})
    assert any("SQL that does not parse" in r for r in verdict.refused["crossover_youth"])
