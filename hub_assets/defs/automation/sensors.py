"""The automation sensors that evaluate ``AFTER_UPSTREAM`` and launch the runs.

Two sensors, split where the flow naturally pauses, not by tool:

- ``warehouse_automation_sensor``: linkage, the spine and every dbt model. They must be in one
  sensor: a drop updates ``raw/<agency>`` and ``identity/<agency>`` together, and only one
  evaluation sees that the spine *will be* rebuilt this tick. Split by tool (dbt apart), the dbt
  sensor ran the agency's use cases at once on the un-linked records, then again after the spine
  (measured with ``tests/test_automation_chain.py``). Together, a drop gives one run, in order.
- ``public_automation_sensor``: the public tables, the findings page and the identifier scan:
  the release, after the marts it reads have finished.

Both run by default: a new drop flows through with nobody pressing a button. They evaluate every
5 s (Dagster's sensor loop runs every 5 s at best): an evaluation that requests nothing costs
little, and each wait for one is on the path from a landed file to its release
(``benchmarks/bench_hands_off.py``).
"""

import dagster as dg

WAREHOUSE_BUILD = (dg.AssetSelection.groups("linkage", "spine")
                   | dg.AssetSelection.kind("dbt"))
RELEASE = dg.AssetSelection.all() - WAREHOUSE_BUILD
AUTOMATION_INTERVAL_SECONDS = 5

warehouse_automation_sensor = dg.AutomationConditionSensorDefinition(
    "warehouse_automation_sensor",
    target=WAREHOUSE_BUILD,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    description="After a drop is ingested: incremental linkage, the person spine and the dbt "
                "staging, intermediate and use-case models, in one run.",
)

public_automation_sensor = dg.AutomationConditionSensorDefinition(
    "public_automation_sensor",
    target=RELEASE,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    description="After the marts change: the disclosure-controlled public tables, the findings "
                "page and the identifier scan.",
)
