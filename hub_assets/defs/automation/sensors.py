"""The automation sensors that evaluate ``AFTER_UPSTREAM`` and launch the runs.

Two sensors, as the Dagster team runs its own platform: dbt models in one, the Python assets
in the other, so a slow dbt evaluation never delays linkage (and each has its own cursor and
history in the UI). Both run by default: a new drop flows through with nobody pressing a button.
"""

import dagster as dg

DBT_ASSETS = dg.AssetSelection.kind("dbt")

hub_automation_sensor = dg.AutomationConditionSensorDefinition(
    "hub_automation_sensor",
    target=dg.AssetSelection.all() - DBT_ASSETS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Brings linkage, the spine, the public zone and the findings page up to date.",
)

dbt_automation_sensor = dg.AutomationConditionSensorDefinition(
    "dbt_automation_sensor",
    target=DBT_ASSETS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Brings the dbt staging, intermediate and use-case models up to date.",
)
