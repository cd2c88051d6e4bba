"""One public asset per published mart: read the mart, suppress, release to the public zone.

Generated in a loop from the dbt manifest (``meta.publish``), never written per mart. Before
writing anything the asset enforces governance (the use case's agreement covers its lineage and
has not expired) and proves the suppressed table safe; the released table is then checked again
by the blocking checks in ``checks.py``. Each release is audited with its digest and agreement.
"""


import dagster as dg
import polars as pl

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.privacy import audit
from hub_assets.privacy.disclosure import table_problems
from hub_assets.privacy.governance import load_governance, refusals
from hub_assets.privacy.manifest import PublishedMart, load_manifest, published_marts
from hub_assets.privacy.release import write_data_dictionary, write_files, write_public_table
from hub_assets.privacy.previous import keep_previous, previous_tables, stage_release, staged_release
from hub_assets.privacy.protect import protect_with_audit
from hub_assets.privacy.suppression import disclosure_settings, min_cell_size


def public_key(mart: PublishedMart) -> dg.AssetKey:
    return dg.AssetKey(["public", mart.name])


def build_public_asset(mart: PublishedMart, mart_key: dg.AssetKey) -> dg.AssetsDefinition:
    @dg.asset(
        key=public_key(mart), deps=[mart_key], group_name="public", pool=WRITER_POOL,
        kinds={"duckdb", "csv", "parquet"}, automation_condition=AFTER_UPSTREAM,
        description=f"Suppressed public release of {mart.name} ({mart.use_case}).",
        tags={"use_case": mart.use_case},
    )
    def _public(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
        manifest = load_manifest()
        governance = load_governance()
        refused = refusals(governance, manifest, mart.use_case)
        if refused:
            raise dg.Failure(description="Governance refuses this release: " + "; ".join(refused))
        threshold = min_cell_size()
        siblings = [m for m in published_marts(manifest) if m.use_case == mart.use_case]
        with hub.warehouse(read_only=True) as con:
            marts = [(m, pl.from_arrow(con.sql(f'select * from "{m.schema}"."{m.relation}"').to_arrow_table()))
                     for m in siblings]
        cells = next(c for m, c in marts if m.name == mart.name)
        # The use case's tables are protected together, against the release before this one.
        started = context.instance.get_run_record_by_id(context.run_id).start_time or 0.0
        names = [m.name for m in siblings]
        staged = staged_release(hub.paths.public, mart.use_case, context.run_id, names)
        if staged is None:
            previous = previous_tables(hub.paths.public, mart.use_case, names, started)
            try:
                tables, release_audit = protect_with_audit(marts, threshold, previous)
            except ValueError as error:
                raise dg.Failure(description=f"{mart.name} is not safe to publish: {error}") from error
            staged = tables, release_audit.metadata()
            stage_release(hub.paths.public, mart.use_case, context.run_id, *staged)
        tables, audit_figures = staged
        table = tables[mart.name]
        unpublished = [c for c in cells.columns if c not in mart.spec.columns]
        if unpublished:  # said out loud: only what meta.publish declares goes public
            context.log.info(f"{mart.name}: columns not in meta.publish stay in the warehouse: {unpublished}")
        unsafe = table_problems(table, mart.spec, threshold, disclosure_settings().rounding_base)
        if unsafe:
            raise dg.Failure(description=f"{mart.name} is not safe to publish: " + "; ".join(unsafe[:10]))
        keep_previous(hub.paths.public, mart.use_case, mart.name, started)
        release = write_files(hub.paths.public, mart, table)
        dictionary = write_data_dictionary(hub.paths.public, mart.use_case, siblings or [mart], threshold)
        agreement = governance.agreement_for(mart.use_case)
        with hub.warehouse() as con:
            write_public_table(con, mart.name, table)
            audit.record(con, hub.paths.root, action="public_release",
                         what=", ".join([f"public.{mart.name}", *(str(p) for p in release.files)]),
                         approval=agreement.id, digest=release.digest)
        context.log.info(f"released {mart.name}: {release.rows} rows, {release.suppressed_cells} cells suppressed")
        return dg.MaterializeResult(metadata={
            "rows": release.rows, "suppressed_cells": release.suppressed_cells, "min_cell_size": threshold,
            "files": [str(p) for p in release.files], "data_dictionary": str(dictionary),
            "sha256": release.digest, "agreement": agreement.id, "unpublished_columns": ", ".join(unpublished),
            **audit_figures,
        })

    return _public
