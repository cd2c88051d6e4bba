"""Each governed asset's lineage through the assembled Dagster graph, for ``governance_agreement``.

The dbt manifest shows what dbt models read. A Python asset that reads an agency's table
directly shows only in the assembled asset graph, which exists once every defs folder has
loaded: ``definitions.py`` records here which agencies each governed asset reaches, and the
check refuses any the agreement does not list.
"""

from __future__ import annotations

import dagster as dg

from hub_assets.governance.agreements import agencies_reached_in_graph

GRAPH_LINEAGE: dict[dg.AssetKey, frozenset[str]] = {}


def record_graph_lineage(defs: dg.Definitions) -> dg.Definitions:
    graph = defs.resolve_asset_graph()
    for check_key in graph.asset_check_keys:
        if check_key.name == "governance_agreement":
            GRAPH_LINEAGE[check_key.asset_key] = frozenset(
                agencies_reached_in_graph(lambda key: graph.get(key).parent_keys, check_key.asset_key))
    return defs
