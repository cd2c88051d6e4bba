"""``governance/identifier_scan``: on every build, prove no identifier left the identity zone.

Scans every table of the warehouse (all schemas) and every public file. The blocking check
``no_identifiers_outside_identity_zone`` fails on any hit and names table, column and kind.
"""


import dagster as dg

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.identifier_scan.scan import Hit, scan

SCAN_KEY = dg.AssetKey(["governance", "identifier_scan"])
CHECK = "no_identifiers_outside_identity_zone"


def scan_hub(hub: HubResource) -> list[Hit]:
    paths = hub.paths
    files = sorted(p for p in paths.public.rglob("*") if p.suffix in (".csv", ".parquet"))
    return scan(paths.identity_db, db_path=paths.warehouse_db if paths.warehouse_db.exists() else None, files=files)


def build_identifier_scan(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SCAN_KEY, deps=upstream, group_name="governance", pool=WRITER_POOL, kinds={"duckdb"},
        automation_condition=AFTER_UPSTREAM,
        check_specs=[dg.AssetCheckSpec(CHECK, asset=SCAN_KEY, blocking=True,
                                       description="No identifier column or value in the warehouse or public zone.")],
        description="Scans every warehouse table and public file for identifier columns and values.",
    )
    def identifier_scan(context: dg.AssetExecutionContext, hub: HubResource):
        hits = scan_hub(hub)
        for hit in hits[:50]:
            context.log.error(f"identifier outside the identity zone: {hit}")
        yield dg.MaterializeResult(metadata={"hits": len(hits)})
        yield dg.AssetCheckResult(check_name=CHECK, asset_key=SCAN_KEY, passed=not hits,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"hits": len(hits), "first_hits": "\n".join(map(str, hits[:20]))})

    return identifier_scan
