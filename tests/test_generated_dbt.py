"""The committed dbt files that follow from the agency declarations (staging folders, the
service-episode macro and models) are exactly what the generator writes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hub_assets.sources.declaration import load_agencies, parse_declaration

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"
HAND_WRITTEN_STAGING = {"spine"}  # the hub's own spine, not an agency


def _generator():
    spec = importlib.util.spec_from_file_location("generate_staging", DBT / "scripts" / "generate_staging.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_generated_dbt_files_match_the_generator(tmp_path):
    written = _generator().write_all(tmp_path)
    assert written, "the generator wrote nothing"
    differ = [str(p.relative_to(tmp_path)) for p in written
              if not (DBT / p.relative_to(tmp_path)).exists()
              or (DBT / p.relative_to(tmp_path)).read_text() != p.read_text()]
    assert differ == [], f"re-run dbt_project/scripts/generate_staging.py: {differ} differ from the declarations"
    # Nothing generated is left over from an agency or model the declarations no longer make.
    generated = {p.relative_to(tmp_path) for p in written}
    committed = {p.relative_to(DBT) for folder in (DBT / "models" / "staging").iterdir()
                 if folder.is_dir() and folder.name not in HAND_WRITTEN_STAGING for p in folder.iterdir()}
    committed |= {p.relative_to(DBT) for p in (DBT / "models" / "intermediate" / "episodes").iterdir()}
    assert sorted(map(str, committed - generated)) == []


def test_every_declared_agency_has_a_staging_folder_and_a_place_in_the_episodes():
    files = _generator().generated_files()
    service = files["models/intermediate/episodes/int_service_episodes.sql"]
    summer = files["models/intermediate/episodes/int_summer_episodes.sql"]
    for agency in load_agencies():
        assert f"models/staging/{agency.name}/stg_{agency.name}__{agency.entity}.sql" in files
        if agency.episodes is None:
            assert f"agency_episodes('{agency.name}')" not in service + summer
        elif agency.episodes.is_summer_provider:
            assert f"agency_episodes('{agency.name}')" in summer
        else:
            assert f"agency_episodes('{agency.name}')" in service


def _raw(name):
    import yaml

    return yaml.safe_load((REPO / "hub_assets" / "sources" / "agencies" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("change, message", [
    ({"staging": {"renames": {"no_such_column": "x"}}},
     r"agency hmis .*staging.renames renames \['no_such_column'\], which are not its warehouse content"),
    ({"staging": {"snapshot_keys": ["record_token"]}},
     r"agency hmis .*staging.snapshot_keys is only for mode: snapshot"),
    ({"staging": {"renames": {}, "snapshot": ["x"]}}, r"agency hmis: staging block has unknown keys \['snapshot'\]"),
    ({"episodes": {"service_type": "homeless_services", "program": "project_kind", "start_date": "entry_date"}},
     r"agency hmis .*episodes.program names column 'project_kind', which its staging model does not have"),
    ({"episodes": {"service_type": "homeless services", "program": "project_type", "start_date": "entry_date"}},
     r"episodes.service_type is a label in snake_case"),
    ({"episodes": {"program": "project_type", "start_date": "entry_date"}},
     r"agency hmis: episodes block lacks \['service_type'\]"),
    ({"episodes": {"service_type": "x", "program": "project_type", "start_date": "entry_date",
                   "summer": {"is_summer_program": "true"}}},
     r"episodes.summer needs exactly is_summer_program and summer_year"),
])
def test_a_declaration_with_a_wrong_staging_or_episodes_block_is_refused_naming_it(change, message):
    with pytest.raises(ValueError, match=message):
        parse_declaration({**_raw("hmis"), **change})


def test_a_snapshot_agency_must_say_what_identifies_its_rows():
    raw = _raw("city_schools")
    with pytest.raises(ValueError, match=r"agency city_schools .*declares staging.snapshot_keys"):
        parse_declaration({**raw, "staging": {}})
    with pytest.raises(ValueError, match=r"staging.snapshot_keys \['school'\] are not staging columns"):
        parse_declaration({**raw, "staging": {"snapshot_keys": ["record_token", "school"]}})
