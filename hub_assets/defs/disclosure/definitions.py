"""The public zone's definitions: the release of every published mart in the dbt manifest with the
findings page (one step, ``assets.py``), each public table's disclosure checks and governance check;
and a governance check on every model of every use case (``marts/<use_case>/`` or
``meta.use_case``), so a refused use case stops at its marts."""

from __future__ import annotations

from collections import defaultdict

import dagster as dg

from hub_assets.dbt.manifest import load_manifest, published_marts, use_case_of
from hub_assets.dbt.mart_keys import mart_asset_key
from hub_assets.defs.disclosure.assets import build_public_release, public_key
from hub_assets.defs.disclosure.checks import build_disclosure_checks
from hub_assets.defs.governance.checks import build_governance_checks


def public_definitions(manifest: dict, key_of=mart_asset_key) -> dg.Definitions:
    marts = published_marts(manifest)
    assets = [build_public_release(marts, lambda m: key_of(manifest, m.unique_id))] if marts else []
    governed_models: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for uid, node in sorted(manifest.get("nodes", {}).items()):
        use_case = use_case_of(node) if node.get("resource_type") == "model" else None
        if use_case:
            governed_models[use_case].append(key_of(manifest, uid))
    checks = []
    for use_case in sorted({m.use_case for m in marts}):
        released = [m for m in marts if m.use_case == use_case]
        checks += [build_disclosure_checks(use_case, released),
                   build_governance_checks(use_case, [public_key(m) for m in released], "public")]
    checks += [build_governance_checks(use_case, sorted(set(keys), key=lambda k: k.to_user_string()), "marts")
               for use_case, keys in sorted(governed_models.items())]
    return dg.Definitions(assets=assets, asset_checks=checks)


@dg.definitions
def defs() -> dg.Definitions:
    return public_definitions(load_manifest())
