"""The hub's Dagster definitions: everything under ``defs/``, one folder per domain."""

from pathlib import Path

from dagster import definitions, load_from_defs_folder

from hub_assets.defs.findings.findings_report import depend_on_every_public_asset


@definitions
def defs():
    # The findings page runs after every public/* asset, whichever folders define them.
    return depend_on_every_public_asset(load_from_defs_folder(path_within_project=Path(__file__).parent))
