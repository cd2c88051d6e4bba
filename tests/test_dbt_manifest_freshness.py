"""The dbt manifest is judged fresh by the content of every project file, never by file times:
an edit, a new file with an old time and a deletion all make it stale, so governance never acts
on a model that is gone, and a model it has not seen is compiled, judged and refused."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from dagster_dbt import DbtProject
from test_governance import VIOLATING_MART, VIOLATING_YAML
from test_governance_routes import copy_project

from hub_assets.dbt.manifest import load_manifest
from hub_assets.dbt.project import manifest_is_stale, prepare_manifest, project_hash
from hub_assets.governance.agreements import load_governance, refusals

TODAY = dt.date(2026, 1, 1)
LONG_AGO = 946_684_800  # 2000-01-01, older than any manifest


def _crossover_refusals(project: DbtProject) -> list[str]:
    manifest = load_manifest(prepare_manifest(project))
    return refusals(load_governance(), manifest, "crossover_youth", today=TODAY, recorded=False)


def _plant_violation(project: DbtProject, mtime: float | None = None) -> list:
    folder = project.project_dir / "models" / "marts" / "crossover_youth"
    files = [folder / "crossover_youth_working.sql", folder / "_crossover_youth_working.yml"]
    files[0].write_text(VIOLATING_MART)
    files[1].write_text(VIOLATING_YAML)
    if mtime is not None:
        for path in files:
            os.utime(path, (mtime, mtime))
    return files


@pytest.fixture
def project(tmp_path) -> DbtProject:
    folder = copy_project(tmp_path)
    return DbtProject(project_dir=folder, profiles_dir=folder)


def test_every_kind_of_project_file_counts_and_generated_folders_do_not(tmp_path):
    folder = copy_project(tmp_path)
    base = project_hash(folder)
    (folder / "target").mkdir()
    (folder / "target" / "run_results.json").write_text("{}")
    (folder / ".user.yml").write_text("id: x\n")
    assert project_hash(folder) == base
    for new in ("seeds/codes.csv", "snapshots/snap.sql", "macros/extra.sql", "packages.yml", "analyses/a.sql"):
        path = folder / new
        path.parent.mkdir(exist_ok=True)
        path.write_text("x\n")
        assert project_hash(folder) != base, new
        path.unlink()
        assert project_hash(folder) == base, new
    profiles = folder / "profiles.yml"
    profiles.write_text(profiles.read_text() + "\n# edited\n")
    assert project_hash(folder) != base


@pytest.mark.slow
def test_a_deleted_model_is_no_longer_refused_by_name(project):
    files = _plant_violation(project)
    assert any("crossover_youth_working" in r for r in _crossover_refusals(project))
    assert not manifest_is_stale(project)
    for path in files:
        path.unlink()
    assert manifest_is_stale(project)  # a deletion leaves no newer file time behind
    assert _crossover_refusals(project) == []


@pytest.mark.slow
def test_a_model_with_an_old_file_time_is_parsed_and_refused(project):
    assert _crossover_refusals(project) == []
    _plant_violation(project, mtime=LONG_AGO)
    assert manifest_is_stale(project)
    problems = _crossover_refusals(project)
    assert len(problems) == 1 and "reaches source 'wage_records' (via crossover_youth_working)" in problems[0]
    assert not manifest_is_stale(project)


@pytest.mark.slow
def test_a_model_the_running_definitions_do_not_know_is_left_out_not_a_key_error(project, tmp_path):
    """A model added after the definitions loaded (old file time or not) is compiled and judged;
    the build leaves it out and names it, instead of dagster-dbt meeting a node it has no asset for."""
    from hub_assets.governance.governed_build import plan_build

    known = set(load_manifest(prepare_manifest(project))["nodes"])
    mart = project.project_dir / "models" / "marts" / "crossover_youth" / "crossover_youth_count.sql"
    mart.write_text("{{ config(contract={'enforced': false}) }}\n"
                    "select count(*) as youth from {{ ref('int_crossover_youth') }}")
    os.utime(mart, (LONG_AGO, LONG_AGO))
    data = tmp_path / "data"
    data.mkdir()
    plan = plan_build(project.project_dir, tmp_path / "target", load_governance(), known, today=TODAY,
                      env={"HUB_DATA_DIR": str(data)})
    assert plan.verdict.refused == {}
    assert plan.unknown == ("model.youth_data_hub.crossover_youth_count",)
    assert "crossover_youth_count" in plan.build_args(["build"])[-1]
    assert any("crossover_youth_count" in f and "not in the loaded definitions" in f for f in plan.failures())


def test_a_missing_manifest_is_an_error_naming_its_path_and_hub_prepare(tmp_path, monkeypatch):
    """Never an empty project: every reader of the manifest (here the public zone's definitions)
    stops with the path and the command that makes it."""
    from hub_assets.dbt.manifest import ManifestMissing, load_manifest
    from hub_assets.defs.disclosure.definitions import defs as public_defs

    missing = tmp_path / "target" / "manifest.json"
    monkeypatch.setenv("HUB_DBT_MANIFEST", str(missing))
    with pytest.raises(ManifestMissing, match="hub prepare") as error:
        load_manifest()
    assert str(missing) in str(error.value)
    with pytest.raises(ManifestMissing, match="hub prepare"):
        public_defs()
