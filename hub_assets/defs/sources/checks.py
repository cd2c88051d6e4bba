"""Each agency's intake checks, per drop: nothing lost, nothing identifying in the warehouse,
required content present."""


import warnings

import dagster as dg
import polars as pl

from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.defs.sources.partitions import drops_partitions, identity_key, raw_key
from hub_assets.sources.declaration import AgencySource, identifier_column_names
from hub_assets.sources.stores import ensure_identity_tables, raw_table
from hub_assets.sources.tokens import drop_token


def _specs(source: AgencySource, partitions: dg.DynamicPartitionsDefinition) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("rows_accounted_for", asset=identity_key(source), partitions_def=partitions,
                          description="rows received = rows accepted + rows quarantined, for every drop of "
                                      "this agency; and this drop's accepted rows are all in the warehouse"),
        dg.AssetCheckSpec("no_identifier_columns", asset=raw_key(source), partitions_def=partitions,
                          description=f"raw.{source.name} has no identifier column (names, DOB, "
                                      "address, ZIP, agency-assigned IDs, drop IDs, row numbers)"),
        dg.AssetCheckSpec("required_content_present", asset=raw_key(source), partitions_def=partitions,
                          description="declared required content columns are never null in the warehouse"),
    ]


def build_intake_checks(source: AgencySource) -> dg.AssetChecksDefinition:
    partitions = drops_partitions(source)
    with warnings.catch_warnings():
        # Partitioned check specs are "preview" in 1.13; per-drop check results are what we want.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        specs = _specs(source, partitions)

    @dg.multi_asset_check(name=f"{source.name}_intake_checks", specs=specs, pool=WRITER_POOL)
    def intake_checks(context: dg.AssetCheckExecutionContext, hub: HubResource):
        # The run's drops: one for a sensor's run, all of an agency's new drops for hub run's.
        partitioned = context.has_partition_key_range or context.has_partition_key
        drop_ids = list(context.partition_keys) if partitioned else []
        with hub.identity(read_only=False) as con:
            ensure_identity_tables(con)
            drops = con.sql("select drop_id, rows_received, rows_accepted, rows_quarantined, status from drops "
                            "where agency = ? and status in ('accepted', 'superseded')",
                            params=[source.name]).pl()
        with hub.warehouse(read_only=True) as con:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = ?", [source.name]).fetchall()]
            # The warehouse knows a drop by its token only.
            tokens = {drop_token(hub.key(), source.name, d): d for d in drop_ids}
            loaded = {tokens[t]: n for t, n in con.execute(
                f"select drop_token, count(*) from {raw_table(source)} where list_contains(?, drop_token) "
                "group by 1", [list(tokens)]).fetchall()} if columns else {}
            required = [c.warehouse_name for c in source.warehouse_content if c.required]
            # One scan for every required column.
            counts = con.execute("select " + ", ".join(f"count(*) filter (where {c} is null)" for c in required)
                                 + f" from {raw_table(source)}").fetchone() if columns and required else ()
            nulls = dict(zip(required, counts))

        unbalanced = drops.filter(drops["rows_received"] != drops["rows_accepted"] + drops["rows_quarantined"])
        these = drops.filter(pl.col("drop_id").is_in(drop_ids) & (pl.col("status") == "accepted"))
        expected = dict(zip(these["drop_id"], these["rows_accepted"]))
        missing = sorted(d for d, n in expected.items() if loaded.get(d, 0) != n)
        yield dg.AssetCheckResult(
            check_name="rows_accounted_for", asset_key=identity_key(source),
            passed=unbalanced.is_empty() and not missing,
            metadata={"drops_checked": drops.height, "unbalanced_drops": unbalanced["drop_id"].to_list(),
                      "rows_accepted": sum(expected.values()) if expected else None,
                      "rows_in_warehouse": sum(loaded.values()),
                      "drops_not_whole_in_warehouse": missing})
        leaked = sorted(set(columns) & identifier_column_names())
        yield dg.AssetCheckResult(check_name="no_identifier_columns", asset_key=raw_key(source),
                                  passed=bool(columns) and not leaked,
                                  metadata={"columns": dg.MetadataValue.json(columns), "identifier_columns": leaked})
        yield dg.AssetCheckResult(
            check_name="required_content_present",
            asset_key=raw_key(source),
            passed=not any(nulls.values()),
            metadata={"null_counts": dg.MetadataValue.json(nulls)},
        )

    return intake_checks
