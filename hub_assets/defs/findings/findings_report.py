"""``public/findings_report``: the static HTML findings page at ``public/findings/index.html``.

It reads only files under ``$HUB_DATA_DIR/public/`` (what disclosure control released),
never the warehouse or identity stores, and runs after every other ``public/*`` asset: those
are found in the assembled graph by ``depend_on_every_public_asset`` (called from
``hub_assets/definitions.py``), so a newly published mart needs no change here.
"""

import warnings

import dagster as dg

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.resources import HubResource
from hub_assets.findings import load_public_tables, write_findings_page

FINDINGS_KEY = dg.AssetKey(["public", "findings_report"])


@dg.asset(
    key=FINDINGS_KEY,
    group_name="public",
    kinds={"html"},
    description="Findings page (static HTML, charts inline) from the disclosure-controlled "
    "public tables: Summer Engagement in depth, headline figures for every use case.",
    automation_condition=AFTER_UPSTREAM,
)
def findings_report(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
    public_dir = hub.paths.public
    tables = load_public_tables(public_dir)
    page = write_findings_page(public_dir)
    context.log.info(f"findings page written to {page}")
    return dg.MaterializeResult(metadata={
        "page": dg.MetadataValue.url(page.as_uri()),
        "path": dg.MetadataValue.path(str(page)),
        "use_cases": dg.MetadataValue.json(sorted(tables)),
        "tables": sum(len(v) for v in tables.values()),
        "suppressed_cells_shown": sum(t.suppressed_cells for v in tables.values() for t in v),
        "bytes": page.stat().st_size,
    })


def depend_on_every_public_asset(defs: dg.Definitions) -> dg.Definitions:
    """Make the findings page depend on every other ``public/*`` asset in the graph."""
    public_keys = [key for key in defs.resolve_all_asset_keys()
                   if key.path[0] == "public" and key != FINDINGS_KEY]
    if not public_keys or FINDINGS_KEY not in defs.resolve_all_asset_keys():
        return defs

    def add_deps(spec: dg.AssetSpec) -> dg.AssetSpec:
        known = {dep.asset_key for dep in spec.deps}
        return spec.replace_attributes(
            deps=[*spec.deps, *[k for k in public_keys if k not in known]])

    # map_resolved_asset_specs is marked "preview" in 1.13 but is the documented way to add deps to an
    # op-backed asset after the fact; the warning would only repeat on every load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_resolved_asset_specs(func=add_deps, selection=[FINDINGS_KEY])
