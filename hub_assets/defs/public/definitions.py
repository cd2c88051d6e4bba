"""The public zone's definitions: for every published mart in the dbt manifest, its public asset,
its disclosure checks and a governance check; and a governance check on every model of every use
case (``marts/<use_case>/`` or ``meta.use_case``), so a refused use case stops at its marts."""

from __future__ import annotations

import dagster as dg

from hub_assets.defs.public.assets import build_public_asset, public_key
from hub_assets.defs.public.checks import build_disclosure_checks, build_governance_check
from hub_assets.defs.public.mart_keys import mart_asset_key
from hub_assets.privacy.manifest import load_manifest, published_marts, use_case_of


def public_definitions(manifest: dict, key_of=mart_asset_key) -> dg.Definitions:
    assets, checks = [], []
    for mart in published_marts(manifest):
        assets.append(build_public_asset(mart, key_of(manifest, mart.unique_id)))
        checks += [build_disclosure_checks(mart), build_governance_check(mart.use_case, public_key(mart))]
    for uid, node in sorted(manifest.get("nodes", {}).items()):
        use_case = use_case_of(node) if node.get("resource_type") == "model" else None
        if use_case:
            checks.append(build_governance_check(use_case, key_of(manifest, uid)))
    return dg.Definitions(assets=assets, asset_checks=checks)


@dg.definitions
def defs() -> dg.Definitions:
    return public_definitions(load_manifest())
