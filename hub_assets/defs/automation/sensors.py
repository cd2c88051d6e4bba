"""The automation sensor that evaluates the conditions downstream of ingest and launches the runs.

One sensor over everything conditioned: linkage, the spine, every dbt model, the public tables,
the findings page and the identifier scan. In one evaluation a new drop's ``raw/<agency>``
update requests linkage, and the conditions downstream see that linkage *will be* requested, so
the spine, the use cases (``AFTER_LINKAGE``: they wait for the person keys) and the public
release all join the same request: one run per batch of drops, steps in dependency order, one
run worker started. Split into sensors, each part waited for the run before it to end and for
its own tick, and a run worker to start, before starting.

Its runs carry ``hub/writes: warehouse``, as every ingest run does (``defs/sources/sensors.py``);
the instance runs one run with that tag at a time (``deploy/dagster.yaml``). Steps already take
turns on the DuckDB writer pool, but a drop's ingest step could otherwise slip in between
linkage and the use cases of a run already under way, putting records without a person key in
front of them.

It evaluates every 5 s (Dagster's sensor loop runs every 5 s at best): an evaluation that
requests nothing costs little, and each wait for one is on the path from a landed file to its
release (``benchmarks/bench_hands_off.py``).
"""

import dagster as dg

WRITES_WAREHOUSE = {"hub/writes": "warehouse"}
"""Run tag of every run that writes the warehouse's tables from landing: one such run at a time."""

AUTOMATION_INTERVAL_SECONDS = 5

hub_automation_sensor = dg.AutomationConditionSensorDefinition(
    "hub_automation_sensor",
    target=dg.AssetSelection.all(),
    run_tags=WRITES_WAREHOUSE,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    description="After drops are ingested: incremental linkage, the person spine, the dbt models, "
                "the public tables, the findings page and the identifier scan, in one run.",
)
