"""Governance definitions built from the manifest: the identifier scan, downstream of every
public asset. (The audit asset and sensor in ``audit.py`` are loaded from the folder directly.)"""

from __future__ import annotations

import dagster as dg

from hub_assets.defs.governance.identifier_scan import build_identifier_scan
from hub_assets.privacy.manifest import load_manifest, published_marts


@dg.definitions
def defs() -> dg.Definitions:
    upstream = [dg.AssetKey(["public", m.name]) for m in published_marts(load_manifest())]
    return dg.Definitions(assets=[build_identifier_scan(upstream)])
