"""The ingest asset of each agency: one multi-asset writing ``identity/<agency>`` (identity zone)
and ``raw/<agency>`` (warehouse), one partition per drop.

A sensor launches one run per drop. ``hub run`` (and a backfill) launches one run for all of an
agency's new drops (``BackfillPolicy.single_run``): the run loads them in order with one
connection per store and records each drop's own metadata on its partition. A run is all or
nothing in Dagster's record, so a drop that cannot be read fails it before any drop is
written; ``hub run`` then loads that agency's drops one run each, so the bad drop fails alone.
"""


from datetime import timedelta

import dagster as dg

from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.defs.sources.partitions import drops_partitions, identity_key, raw_key
from hub_assets.sources.declaration import CADENCE_DAYS, AgencySource, snake_case
from hub_assets.sources.errors import DropRejected
from hub_assets.sources.intake import ingest_drops
from hub_assets.sources.quality import IntakeResult


def declared_metadata(source: AgencySource) -> dict:
    return {
        "title": source.title,
        "owner": source.owner,
        "cadence": source.cadence,
        "expected_lag_days": source.expected_lag_days,
        "mode": source.mode,
        "file_pattern": source.file_pattern,
        "landing_folder": f"landing/{source.name}/",
        "declared_columns": dg.MetadataValue.json(source.expected_columns),
    }


def freshness(source: AgencySource) -> dg.FreshnessPolicy:
    # Warn once a cadence has passed without a drop; fail once the agency's lag has passed too.
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(days=source.freshness_days),
                                          warn_window=timedelta(days=CADENCE_DAYS[source.cadence]))


def _specs(source: AgencySource) -> list[dg.AssetSpec]:
    common = dict(
        owners=[f"team:{snake_case(source.owner.split(',')[0])}"],
        metadata=declared_metadata(source),
        partitions_def=drops_partitions(source),
        freshness_policy=freshness(source),
        kinds={"duckdb", "polars"},
    )
    tags = {"agency": source.name, "cadence": source.cadence, "mode": source.mode}
    return [
        dg.AssetSpec(identity_key(source), group_name="identity", tags={**tags, "zone": "identity"},
                     description=f"{source.title}: identifiers in standard form (identity zone). "
                                 f"{source.description.strip()}", **common),
        dg.AssetSpec(raw_key(source), group_name="agency_sources", tags={**tags, "zone": "warehouse"},
                     description=f"{source.title}: content keyed by record tokens, no identifiers "
                                 f"(warehouse raw.{source.name}). {source.description.strip()}", **common),
    ]


def _result_metadata(result: IntakeResult) -> dict:
    return {
        "drop_id": result.drop_id,
        "sha256": result.sha256,
        "size_bytes": result.size_bytes,
        "rows_received": result.rows_received,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "quarantined_by_rule": dg.MetadataValue.json(result.quarantined_by_rule),
        "values_left_empty": dg.MetadataValue.json(result.nulled),
        "null_rates": dg.MetadataValue.json(result.null_rates),
        "date_ranges": dg.MetadataValue.md(
            "| column | earliest | latest |\n|---|---|---|\n"
            + "\n".join(f"| {c} | {lo} | {hi} |" for c, (lo, hi) in result.date_ranges.items())),
        "supersedes": result.supersedes or "",
        "quality_report": dg.MetadataValue.path(str(result.report_path)),
    }


def build_ingest_asset(source: AgencySource) -> dg.AssetsDefinition:
    @dg.multi_asset(name=f"ingest_{source.name}", specs=_specs(source), partitions_def=drops_partitions(source),
                    backfill_policy=dg.BackfillPolicy.single_run(), pool=WRITER_POOL)
    def ingest(context: dg.AssetExecutionContext, hub: HubResource):
        # Partition keys come in the order the drops were registered: oldest version first.
        drop_ids = list(context.partition_keys)
        try:
            results = ingest_drops(source, drop_ids, hub)
        except DropRejected as exc:
            # One clear message for the run: agency, file, problem. Nothing of this run was loaded.
            raise dg.Failure(description=str(exc), metadata={"agency": exc.agency, "file": exc.file_name,
                                                             "problem": exc.problem}) from exc
        for result in results:
            metadata = _result_metadata(result)
            context.add_asset_metadata({**metadata, "dagster/row_count": result.identity_records},
                                       asset_key=identity_key(source), partition_key=result.drop_id)
            context.add_asset_metadata({**metadata, "dagster/row_count": result.rows_accepted},
                                       asset_key=raw_key(source), partition_key=result.drop_id)
        yield dg.MaterializeResult(asset_key=identity_key(source))
        yield dg.MaterializeResult(asset_key=raw_key(source))

    return ingest
