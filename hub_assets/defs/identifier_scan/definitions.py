"""The identifier scan's definitions built from the manifest: the scan, downstream of every
public asset."""

from __future__ import annotations

import dagster as dg

from hub_assets.dbt.manifest import load_manifest, published_marts
from hub_assets.defs.identifier_scan.assets import build_identifier_scan


@dg.definitions
def defs() -> dg.Definitions:
    upstream = [dg.AssetKey(["public", m.name]) for m in published_marts(load_manifest())]
    return dg.Definitions(assets=[build_identifier_scan(upstream)])
