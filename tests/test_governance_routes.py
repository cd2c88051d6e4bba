"""Every route around an agreement is refused before anything is written where analysts read.

One copy of the dbt project gets one planted model per route (each reads an agency its use case's
agreement does not list), plus a model that reads the identity store. The hub's governed build
(compile, judge the compiled SQL and rendered hooks, build what passes) then runs with real dbt on
a small planted warehouse. Each test checks one route: refused with the use case, the relation and
the agreement named, and nothing of that use case in ``marts`` — while the use case that passes is
built.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from hub_assets.governance.agreements import load_governance
from hub_assets.governance.governed_build import plan_build
from hub_assets.settings import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")
TODAY = dt.date(2026, 1, 1)
UNCHECKED = "{{ config(contract={'enforced': false}) }}\n"

ROUTES = {
    # route: (file under models/ (or None), use case, relation named in the refusal, planted node)
    "source": ("marts/summer_engagement/summer_side_source.sql", "summer_engagement",
               "warehouse.raw.child_welfare", "summer_side_source"),
    "hard_coded": ("marts/student_homelessness/homelessness_side_hard_coded.sql", "student_homelessness",
                   "raw.child_welfare", "homelessness_side_hard_coded"),
    "quoted": ("marts/opportunity_youth/opportunity_side_quoted.sql", "opportunity_youth",
               "warehouse.raw.early_childhood", "opportunity_side_quoted"),
    "macro": ("marts/young_parents/young_parents_side_macro.sql", "young_parents",
              "warehouse.raw.child_welfare", "young_parents_side_macro"),
    "seed_post_hook": ("marts/summer_engagement/summer_side_seed.sql", "summer_engagement",
                       "raw.child_welfare", "placement_codes"),
    # A macro that runs SQL while compiling and writes its result into the model as literals.
    "run_query": ("marts/summer_engagement/summer_side_run_query.sql", "summer_engagement",
                  "raw.child_welfare", "summer_side_run_query"),
}
SQL = {
    "source": UNCHECKED + "select count(*) as placements from {{ source('raw', 'child_welfare') }}",
    "hard_coded": UNCHECKED + "select count(*) as placements from raw.child_welfare",
    "quoted": UNCHECKED + 'select count(*) as enrolments from "warehouse"."raw"."early_childhood"',
    # Person keys joined to placement types and removal dates, through a macro-built relation.
    "macro": UNCHECKED + """
with placements as (select * from {{ placements_relation() }}),
crosswalk as (select * from {{ ref('stg_spine__person_crosswalk') }}),
final as (
    select crosswalk.person_key, placements.placement_type, placements.removal_date
    from placements join crosswalk using (record_token)
)
select * from final""",
    "seed_post_hook": UNCHECKED + "select count(*) as placements from {{ ref('placement_codes') }}",
    "run_query": UNCHECKED + """
{%- set placements = run_query("select count(*) from raw.child_welfare") if execute else none -%}
select {{ placements.columns[0].values()[0] if placements else 0 }} as placements""",
}
MACRO = """{% macro placements_relation() %}
    {{ return(api.Relation.create(database=target.database, schema='raw', identifier='child_welfare')) }}
{% endmacro %}
"""
SEED_HOOK = """
seeds:
  youth_data_hub:
    placement_codes:
      +post-hook: "create or replace table {{ this }} as select * from raw.child_welfare"
"""
IDENTITY_PEEK = "select * from identity.main.identity_records"


def plant_routes(project: Path) -> None:
    for route, (path, *_rest) in ROUTES.items():
        (project / "models" / path).write_text(SQL[route])
    (project / "macros" / "placements_relation.sql").write_text(MACRO)
    (project / "seeds").mkdir(exist_ok=True)
    (project / "seeds" / "placement_codes.csv").write_text("code,label\nFOSTER_FAMILY,Foster family\n")
    with (project / "dbt_project.yml").open("a") as fh:
        fh.write(SEED_HOOK)
    (project / "models" / "intermediate" / "int_identity_peek.sql").write_text(IDENTITY_PEEK)


def copy_project(root: Path) -> Path:
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return project


def dbt_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "HUB_DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def run_dbt(project: Path, data_dir: Path, target: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project),
                           "--target-path", str(target)],
                          env=dbt_env(data_dir), capture_output=True, text=True, timeout=900)


def relations(data_dir: Path) -> set[str]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    from test_dbt_project import _plant

    root = tmp_path_factory.mktemp("routes")
    project, data_dir, target = copy_project(root), root / "data", root / "target"
    data_dir.mkdir()
    plant_routes(project)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        _plant(con)
    before = relations(data_dir)
    plan = plan_build(project, target, load_governance(), today=TODAY, env={"HUB_DATA_DIR": str(data_dir)})
    after_check = relations(data_dir)
    build = run_dbt(project, data_dir, target,
                    plan.build_args(["build", "--exclude-resource-type", "unit_test"]))
    assert build.returncode == 0, build.stdout[-4000:]
    return plan, before, after_check, relations(data_dir)


@pytest.mark.slow
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_around_an_agreement_is_refused_before_anything_is_written(governed, route):
    plan, before, after_check, after_build = governed
    _path, use_case, relation, node = ROUTES[route]
    agreement = load_governance().agreement_for(use_case)
    reasons = plan.verdict.refused.get(use_case, [])
    assert any(f"use case {use_case!r} reads {relation}" in r and node in r and agreement.id in r
               for r in reasons), reasons
    assert after_check == before  # judged from compiled SQL: nothing ran before the verdict
    assert not any(r.startswith("marts.") for r in after_build if _use_case_of_relation(plan, r) == use_case)
    assert not any(r.endswith(f".{node}") for r in after_build)
    assert any(f.startswith(f"use case {use_case!r}") for f in plan.failures())


@pytest.mark.slow
def test_a_read_of_the_identity_store_is_refused_wherever_it_is(governed):
    plan, _before, _after_check, after_build = governed
    [problem] = plan.verdict.node_problems["model.youth_data_hub.int_identity_peek"]
    assert "the identity store (identity.main.identity_records)" in problem
    assert "intermediate.int_identity_peek" not in after_build


@pytest.mark.slow
def test_the_use_case_its_agreement_covers_is_still_built(governed):
    plan, _before, _after_check, after_build = governed
    assert plan.verdict.refusals["crossover_youth"] == []
    assert {"marts.crossover_youth_by_group", "marts.crossover_youth_by_sequence"} <= after_build
    assert "staging.stg_child_welfare__placements" in after_build  # shared layers the passing use case needs


def _use_case_of_relation(plan, relation: str) -> str | None:
    from hub_assets.dbt.manifest import use_case_of

    schema, name = relation.split(".", 1)
    for node in plan.project.manifest["nodes"].values():
        if node.get("schema") == schema and (node.get("alias") or node.get("name")) == name:
            return use_case_of(node)
    return None


@pytest.mark.slow
def test_the_dagster_dbt_step_fails_naming_the_refusal_and_builds_only_what_passes(tmp_path, monkeypatch):
    """The hub's own dbt asset (what `hub run` and the sensors launch), on a project with one route
    planted: the step fails naming use case, relation and agreement; the refused use case is not
    in `marts` (what an earlier build left there is dropped); the verdict it records stops the use
    case's public release too."""
    import dagster as dg
    from test_dbt_project import _plant

    from hub_assets.dbt.project import DBT_EXECUTABLE
    from hub_assets.defs.dbt.assets import hub_dbt_models
    from hub_assets.defs.dbt.resources import HubDbtCliResource
    from hub_assets.defs.resources import HubResource
    from hub_assets.governance.agreements import refusals

    project, data = copy_project(tmp_path), tmp_path / "data"
    data.mkdir()
    (project / "models" / ROUTES["hard_coded"][0]).write_text(SQL["hard_coded"])
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        _plant(con)
        # What an earlier build, before the route was planted, left in `marts` for the use case.
        con.execute("create schema if not exists marts")
        con.execute("create table marts.student_homelessness_by_school as select 1 as n")
    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    dbt = HubDbtCliResource(project_dir=str(project), profiles_dir=str(project), dbt_executable=DBT_EXECUTABLE)
    result = dg.materialize(
        [hub_dbt_models], resources={"dbt": dbt, "hub": HubResource(data_dir=str(data))}, raise_on_error=False
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = str(failure.event_specific_data.error)
    assert "use case 'student_homelessness' reads raw.child_welfare" in message
    assert "DSA-2025-02-homelessness" in message
    built = relations(data)
    assert not {r for r in built if r.startswith("marts.student_homelessness")}
    assert {"marts.crossover_youth_by_group", "marts.summer_engagement_overview"} <= built
    materialised = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "summer_engagement_overview" in materialised and "student_homelessness_by_school" not in materialised
    recorded = refusals(load_governance(), {"nodes": {}, "sources": {}}, "student_homelessness", data_dir=data)
    assert any("raw.child_welfare" in r for r in recorded)
    assert refusals(load_governance(), {"nodes": {}, "sources": {}}, "summer_engagement", data_dir=data) == []


@pytest.mark.slow
def test_sql_that_writes_while_compiling_stops_everything_before_anything_is_written(tmp_path):
    from hub_assets.governance.dbt_compile import CompileFailed, compile_project

    project, data = copy_project(tmp_path), tmp_path / "data"
    data.mkdir()
    (project / "models" / "marts" / "summer_engagement" / "summer_side_write.sql").write_text(
        UNCHECKED + "{% if execute %}{% do run_query('create table main.placements_copy as "
        "select * from raw.child_welfare') %}{% endif %}\nselect 1 as n"
    )
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema raw; create table raw.child_welfare as select 'FOSTER_FAMILY' as placement_type")
    before = relations(data)
    with pytest.raises(CompileFailed, match="nothing was built"):
        compile_project(project, tmp_path / "target", env={"HUB_DATA_DIR": str(data)})
    assert relations(data) == before
