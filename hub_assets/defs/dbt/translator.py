"""How dbt nodes appear in the Dagster graph.

- Sources take the asset key in their ``meta.dagster.asset_key`` (``raw/<agency>``,
  ``spine/person_crosswalk``, ``spine/person_spine``), so lineage runs unbroken from the agency
  drop through linkage to every use case.
- Models are keyed ``[<schema>, <model>]``: ``staging/stg_...``, ``intermediate/int_...``,
  ``marts/<mart>`` (the warehouse relation's own name).
- Groups: a mart's group is its use case (its folder under ``models/marts/``); other models are
  in ``staging`` or ``intermediate``.
- Models update after the spine, never on a raw table alone (``AFTER_LINKAGE``): records reach a
  use case only once linkage has keyed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from hub_assets.defs.automation.conditions import AFTER_LINKAGE

# Code references stay off: other parts (the public assets) ask this translator for keys without a
# DbtProject, which code references would require.
SETTINGS = DagsterDbtTranslatorSettings(enable_asset_checks=True)


def _layer_path(props: Mapping[str, Any]) -> list[str]:
    """Folders of a model below ``models/``: e.g. ["marts", "summer_engagement"]."""
    return props.get("original_file_path", "").split("/")[1:-1]


class HubDbtTranslator(DagsterDbtTranslator):
    def __init__(self, settings: DagsterDbtTranslatorSettings | None = None):
        super().__init__(settings or SETTINGS)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta") or {}
        configured = meta.get("dagster", {}).get("asset_key")
        if configured:
            return dg.AssetKey(configured)
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None  # sources belong to the groups of the assets that write them
        layers = _layer_path(dbt_resource_props)
        if layers[:1] == ["marts"] and len(layers) > 1:
            return layers[1]
        return layers[0] if layers else "dbt"

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return AFTER_LINKAGE
