"""The definitions load, and every box of the design's flow is an asset in one graph."""

from __future__ import annotations

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
