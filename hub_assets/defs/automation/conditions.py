"""When assets bring themselves up to date.

Agency ingest assets run from their sensors (one partition per drop). Everything downstream —
linkage, the spine, dbt models, public tables, the findings page — uses ``AFTER_UPSTREAM``:
Dagster's ``eager`` condition, without its "no dependency missing" clause. That clause would
block the whole hub forever once one drop partition failed (a rejected file stays a missing
partition upstream of linkage); upstream failures are reported by the alert sensor instead.
"""

import dagster as dg

AFTER_UPSTREAM = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("after_upstream")
)
