"""dbt's parse is kept per warehouse between Dagster-launched builds (hub_assets/dbt/parse_cache):
the second build on a warehouse parses partially; a build on another warehouse does not reuse it."""

from __future__ import annotations

import importlib.util
import os

import dagster as dg
import duckdb
import pytest

from hub_assets.dbt import parse_cache
from hub_assets.settings import DBT_PROJECT_DIR


def test_a_kept_parse_seeds_only_builds_of_the_same_warehouse(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_cache, "KEPT_DIR", tmp_path / "kept")
    one, other = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    first = tmp_path / "run1"
    first.mkdir()
    (first / parse_cache.PARTIAL_PARSE).write_bytes(b"parse of a")
    try:
        assert parse_cache.keep(first, one)
        second, elsewhere = tmp_path / "run2", tmp_path / "run3"
        assert parse_cache.seed(second, one)
        assert (second / parse_cache.PARTIAL_PARSE).read_bytes() == b"parse of a"
        assert not parse_cache.seed(elsewhere, other)
        assert not (elsewhere / parse_cache.PARTIAL_PARSE).exists()
        # A build that wrote no parse (it failed before parsing) keeps the previous one.
        assert not parse_cache.keep(tmp_path / "empty", one)
        assert parse_cache.kept_parse(one).read_bytes() == b"parse of a"
    finally:
        parse_cache.kept_parse(one).unlink(missing_ok=True)


def test_only_the_most_recently_built_warehouses_keep_their_parse(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_cache, "KEPT_DIR", tmp_path / "kept")
    made = tmp_path / "run"
    made.mkdir()
    (made / parse_cache.PARTIAL_PARSE).write_bytes(b"parse")
    warehouses = [tmp_path / f"w{i}" / "warehouse.duckdb" for i in range(parse_cache.KEEP_WAREHOUSES + 2)]
    try:
        for i, warehouse in enumerate(warehouses):
            parse_cache.keep(made, warehouse)
            os.utime(parse_cache.kept_parse(warehouse), (1e9 + i, 1e9 + i))  # distinct build times
        kept = [parse_cache.kept_parse(w).exists() for w in warehouses]
        assert kept[-parse_cache.KEEP_WAREHOUSES:] == [True] * parse_cache.KEEP_WAREHOUSES
        assert not any(kept[:2])
    finally:
        for warehouse in warehouses:
            parse_cache.kept_parse(warehouse).unlink(missing_ok=True)


def test_only_the_newest_build_folders_are_kept(tmp_path):
    folders = [tmp_path / f"{parse_cache.RUN_FOLDER_PREFIX}{i:04d}" for i in range(parse_cache.KEEP_RUN_FOLDERS + 3)]
    for i, folder in enumerate(folders):
        (folder / "compiled").mkdir(parents=True)
        os.utime(folder, (1e9 + i, 1e9 + i))
    (tmp_path / "partial_parse").mkdir()  # not a build folder: never removed
    removed = parse_cache.prune_run_folders(root=tmp_path)
    assert sorted(removed) == folders[:3]
    assert [f.exists() for f in folders] == [False] * 3 + [True] * parse_cache.KEEP_RUN_FOLDERS
    assert (tmp_path / "partial_parse").exists()


def test_run_target_paths_are_unique_inside_the_projects_target():
    a, b = parse_cache.run_target_path("abcdef1234"), parse_cache.run_target_path("abcdef1234")
    assert a != b
    assert a.parent == DBT_PROJECT_DIR / "target"


@pytest.mark.slow  # two dagster-dbt runs of one small model (the first one a full parse)
def test_the_second_dagster_build_on_a_warehouse_parses_partially(tmp_path, monkeypatch):
    from hub_assets.defs.dbt.assets import hub_dbt_models
    from hub_assets.defs.dbt.resources import dbt_resource
    from hub_assets.defs.resources import HubResource

    spec = importlib.util.spec_from_file_location(
        "scratch_warehouse", DBT_PROJECT_DIR / "scripts" / "scratch_warehouse.py"
    )
    scratch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scratch)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        scratch.create_tables(con)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    key = dg.AssetKey(["staging", "stg_spine__person_crosswalk"])
    resources = {"dbt": dbt_resource(), "hub": HubResource(data_dir=str(tmp_path))}
    # Observe which target folder each build used (the function itself runs unchanged).
    made, make = [], parse_cache.run_target_path
    monkeypatch.setattr(parse_cache, "run_target_path", lambda run_id: made.append(make(run_id)) or made[-1])
    try:
        for _ in range(2):
            assert dg.materialize([hub_dbt_models], selection=[key], resources=resources).success
        first, second = ((path / "dbt.log").read_text() for path in made)
        assert "Unable to do partial parsing" in first  # nothing kept yet for this warehouse
        assert "Unable to do partial parsing" not in second
        assert parse_cache.kept_parse(tmp_path / "warehouse.duckdb").exists()
    finally:
        parse_cache.kept_parse(tmp_path / "warehouse.duckdb").unlink(missing_ok=True)
