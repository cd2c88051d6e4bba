"""The public zone's definitions: for every published mart in the dbt manifest, its public asset,
its disclosure checks, and governance checks on both the public asset and the mart itself."""

from __future__ import annotations

import dagster as dg

from hub_assets.defs.public.assets import build_public_asset, public_key
from hub_assets.defs.public.checks import build_disclosure_checks, build_governance_check
from hub_assets.defs.public.mart_keys import mart_asset_key
from hub_assets.privacy.manifest import load_manifest, published_marts


def public_definitions(manifest: dict, key_of=mart_asset_key) -> dg.Definitions:
    assets, checks = [], []
    for mart in published_marts(manifest):
        mart_key = key_of(manifest, mart.unique_id)
        assets.append(build_public_asset(mart, mart_key))
        checks += [build_disclosure_checks(mart), build_governance_check(mart, public_key(mart)),
                   build_governance_check(mart, mart_key)]
    return dg.Definitions(assets=assets, asset_checks=checks)


@dg.definitions
def defs() -> dg.Definitions:
    return public_definitions(load_manifest())
