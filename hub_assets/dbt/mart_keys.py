"""The Dagster asset key of a dbt model, as the dbt wiring's own translator names it.

Public assets depend on their mart; the key must be the one ``hub_assets/defs/dbt`` gives the
model, so the translator there is used when it exists (else dagster-dbt's default).
"""

from __future__ import annotations

import functools
import importlib

import dagster as dg


@functools.cache  # a translator memoises the specs it resolves: one serves every lookup (28 per load)
def dbt_translator():
    from dagster_dbt import DagsterDbtTranslator  # slow to import: only when a manifest has marts

    try:
        module = importlib.import_module("hub_assets.defs.dbt.translator")
    except ImportError:
        return DagsterDbtTranslator()
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, DagsterDbtTranslator) and value is not DagsterDbtTranslator:
            return value()
    return DagsterDbtTranslator()


def mart_asset_key(manifest: dict, unique_id: str) -> dg.AssetKey:
    return dbt_translator().get_asset_spec(manifest, unique_id, None).key
