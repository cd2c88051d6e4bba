"""The definitions load, and every box of the design's flow is an asset in one graph."""

from __future__ import annotations

import ast
from pathlib import Path

import dagster as dg
import pytest

from hub_assets.sources.declaration import load_agencies


@pytest.fixture(scope="module")
def defs(tmp_path_factory) -> dg.Definitions:
    import os

    os.environ.setdefault("HUB_DATA_DIR", str(tmp_path_factory.mktemp("defs")))
    from hub_assets.definitions import defs as load

    return load()


def test_definitions_load(defs):
    defs.validate_loadable(defs)
    assert defs.resolve_asset_graph().get_all_asset_keys()


def test_every_agency_has_ingest_assets_a_sensor_and_checks(defs):
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    check_targets = {c.asset_key for c in graph.asset_check_keys}
    sensors = {s.name for s in defs.sensors}
    for source in load_agencies():
        for zone in ("raw", "identity"):
            key = dg.AssetKey([zone, source.name])
            assert key in keys, key
            assert graph.get(key).is_partitioned, key
        assert dg.AssetKey(["raw", source.name]) in check_targets, source.name
        assert any(source.name in name for name in sensors), source.name


def test_linkage_spine_use_cases_and_public_are_in_one_graph(defs):
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    for group in ("linkage", "spine", "public", "summer_engagement", "student_homelessness",
                  "crossover_youth", "opportunity_youth", "young_parents"):
        assert group in groups, group
    # Lineage is unbroken: every use-case mart reaches an agency source upstream.
    marts = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "summer_engagement"]
    reached = set()
    frontier = list(marts)
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in reached:
                reached.add(parent)
                frontier.append(parent)
    assert any(k.path[0] == "raw" for k in reached)
    assert dg.AssetKey(["spine", "person_crosswalk"]) in reached


# --- The layout: one package per box of the flow, and defs/ holding only Dagster definitions. ---

HUB = Path(__file__).resolve().parents[1] / "hub_assets"
PRIVACY_PACKAGES = {"disclosure", "governance", "identifier_scan"}
# What makes a module a Dagster definition: a decorator, a constructor, a base class or an
# automation condition that defines something Dagster loads.
DAGSTER_DECORATORS = {"asset", "multi_asset", "asset_check", "multi_asset_check", "sensor", "run_status_sensor",
                      "run_failure_sensor", "schedule", "job", "op", "graph", "definitions", "dbt_assets"}
DAGSTER_CONSTRUCTORS = {"Definitions", "define_asset_job", "ScheduleDefinition", "SensorDefinition",
                        "AutomationConditionSensorDefinition", "DynamicPartitionsDefinition", "AssetSpec"}
DAGSTER_BASES = {"ConfigurableResource", "DagsterDbtTranslator", "DbtCliResource", "ConfigurableIOManager"}


def _name(node: ast.AST) -> str | None:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return modules


def _defines_dagster_objects(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and {_name(d) for d in node.decorator_list} & DAGSTER_DECORATORS:
            return True
        if isinstance(node, ast.ClassDef) and {_name(b) for b in node.bases} & DAGSTER_BASES:
            return True
        if isinstance(node, ast.Call) and _name(node) in DAGSTER_CONSTRUCTORS:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "AutomationCondition":
            return True
    return False


def test_linkage_and_the_privacy_packages_do_not_import_each_other():
    crossings = []
    for package, forbidden in [("linkage", PRIVACY_PACKAGES), *((p, {"linkage"}) for p in sorted(PRIVACY_PACKAGES))]:
        for path in sorted((HUB / package).rglob("*.py")):
            for module in sorted(_imported_modules(path)):
                parts = module.split(".")
                if parts[0] == "hub_assets" and len(parts) > 1 and parts[1] in forbidden:
                    crossings.append(f"{path.relative_to(HUB.parent)} imports {module}")
    assert not crossings, crossings


def test_defs_holds_only_dagster_definitions():
    """A module under defs/ defines assets, checks, sensors, schedules, jobs, resources or Definitions
    pieces, or is a package's ``__init__`` holding nothing but its docstring; helpers live elsewhere."""
    helpers = []
    for path in sorted((HUB / "defs").rglob("*.py")):
        if path.name == "__init__.py":
            body = ast.parse(path.read_text()).body
            if all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body):
                continue
        if not _defines_dagster_objects(path):
            helpers.append(str(path.relative_to(HUB.parent)))
    assert not helpers, f"modules under defs/ that define nothing for Dagster: {helpers}"


def test_no_module_state_is_shared_between_definitions_and_checks():
    """Nothing under defs/ keeps a mutable module-level registry (a dict, list or set) filled at load time."""
    mutable = []
    for path in sorted((HUB / "defs").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if isinstance(value, ast.Dict | ast.List | ast.Set) and not (value.keys if isinstance(value, ast.Dict)
                                                                       else value.elts):
                mutable.append(f"{path.relative_to(HUB.parent)}:{node.lineno}")
    assert not mutable, f"empty module-level containers filled while loading: {mutable}"
