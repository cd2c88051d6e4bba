"""Governance as code: a use case is refused when its lineage reaches a source its agreement does
not list, or when its agreement has expired; the refusal names use case, source and agreement."""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from hub_assets.privacy.governance import load_governance, parse_governance, refusals
from hub_assets.privacy.manifest import sources_reached
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
    with pytest.raises(ValueError, match=r"agreement 'DSA-2025-03-crossover' lists sources \['tax_records'\]"):
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

    from hub_assets.defs.public.assets import FINDINGS_KEY
    from hub_assets.defs.public.definitions import public_definitions
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
    from hub_assets.defs.governance.graph_lineage import GRAPH_LINEAGE, record_graph_lineage
    from hub_assets.defs.public.checks import build_governance_checks, governance_result

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    side_door = dg.AssetSpec(["marts", "summer_side_door"], deps=[dg.AssetKey(["raw", "hmis"]),
                                                                dg.AssetKey(["spine", "person_spine"])])
    check = build_governance_checks("summer_engagement", [side_door.key], "marts")
    record_graph_lineage(dg.Definitions.merge(hub_defs(), dg.Definitions(assets=[side_door], asset_checks=[check])))

    # The walk stops at the spine (built from every agency's identity records): only HMIS counts.
    assert GRAPH_LINEAGE[side_door.key] == {"hmis"}
    result = governance_result("summer_engagement", side_door.key)
    agreement = load_governance().agreement_for("summer_engagement")
    assert not result.passed
    message = result.metadata["first_problems"].value
    assert "summer_engagement" in message and "'hmis'" in message and agreement.id in message


def test_every_published_use_case_passes_the_dagster_graph_walk(monkeypatch, tmp_path):
    import dagster as dg

    from hub_assets.definitions import defs as hub_defs
    from hub_assets.defs.governance.graph_lineage import GRAPH_LINEAGE

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    hub_defs()
    public = [k for k in GRAPH_LINEAGE if k.path[0] == "public"]
    assert len(public) >= 5
    for key in public:
        assert GRAPH_LINEAGE[key], key  # every public table reaches agency sources
    from hub_assets.defs.public.assets import public_key
    from hub_assets.defs.public.checks import governance_result
    from hub_assets.privacy.manifest import load_manifest, published_marts

    use_case_of_public = {public_key(m): m.use_case for m in published_marts(load_manifest())}
    checked = {k.asset_key for c in hub_defs().asset_checks for k in c.check_keys
               if k.name == "governance_agreement" and k.asset_key.path[0] == "public"}
    assert checked == set(use_case_of_public)  # every public asset carries the check
    for key in checked:
        assert governance_result(use_case_of_public[key], key).passed, key
