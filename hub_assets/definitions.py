"""The hub's Dagster definitions: everything under ``defs/``, one folder per domain."""

from pathlib import Path

from dagster import definitions, load_from_defs_folder

from hub_assets.defs.findings.findings_report import depend_on_every_public_asset
from hub_assets.defs.governance.graph_lineage import record_graph_lineage


@definitions
def defs():
    # Two things need the whole graph: the findings page runs after every public/* asset, and
    # governance checks each use case's lineage through it.
    loaded = load_from_defs_folder(path_within_project=Path(__file__).parent)
    return record_graph_lineage(depend_on_every_public_asset(loaded))
