"""One dynamic partition per received drop, per agency: the partition key is the drop_id."""

from __future__ import annotations

import dagster as dg

from hub_assets.sources.declaration import AgencySource


def drops_partitions(source: AgencySource) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{source.name}_drops")


def identity_key(source: AgencySource) -> dg.AssetKey:
    return dg.AssetKey(["identity", source.name])


def raw_key(source: AgencySource) -> dg.AssetKey:
    return dg.AssetKey(["raw", source.name])
