"""Each governed asset's lineage through the assembled Dagster graph, for ``governance_agreement``.

The dbt manifest shows what dbt models read. A Python asset that reads an agency's table
directly shows only in the assembled asset graph. :func:`graph_lineage` walks that graph (the
one the check runs in: its repository's) from the governed asset; the check refuses any agency
the agreement does not list.
"""

from __future__ import annotations

import dagster as dg

from hub_assets.governance.agreements import agencies_reached_in_graph


def graph_lineage(asset_graph, asset_key: dg.AssetKey) -> frozenset[str]:
    """The agencies ``asset_key`` reaches in ``asset_graph`` (a Dagster asset graph: the
    repository's ``asset_graph`` or ``Definitions.resolve_asset_graph()``)."""
    return frozenset(agencies_reached_in_graph(lambda key: asset_graph.get(key).parent_keys, asset_key))
