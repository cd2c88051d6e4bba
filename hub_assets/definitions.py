"""The hub's Dagster definitions: everything under ``defs/``, one folder per domain."""

from pathlib import Path

from dagster import definitions, load_from_defs_folder

from hub_assets.defs.governance.graph_lineage import record_graph_lineage


@definitions
def defs():
    # Governance checks each use case's lineage through the whole graph.
    loaded = load_from_defs_folder(path_within_project=Path(__file__).parent)
    return record_graph_lineage(loaded)
