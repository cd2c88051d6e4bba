"""The hub's Dagster definitions: everything under ``defs/``, one folder per domain, built from the
dbt manifest (made first, when missing or stale: ``hub_assets.dbt.project.prepare_manifest``)."""

from pathlib import Path

from dagster import definitions, load_from_defs_folder

from hub_assets.dbt.project import prepare_manifest


@definitions
def defs():
    prepare_manifest()  # before any folder reads it (hub_assets.dbt.manifest.load_manifest)
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
