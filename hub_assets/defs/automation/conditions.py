"""When assets bring themselves up to date.

Agency ingest assets run from their sensors (one partition per drop). Everything downstream —
linkage, the spine, dbt models, public tables, the findings page — follows its upstream:

- ``AFTER_UPSTREAM``: Dagster's ``eager`` condition, without its "no dependency missing" clause.
  That clause would block the whole hub forever once one drop partition failed (a rejected file
  stays a missing partition upstream of linkage); upstream failures are reported by the alert
  sensor instead.
- ``AFTER_LINKAGE`` (every dbt model): the same, except that a raw agency table is never what
  triggers a model. A staging model reads ``raw/<agency>`` and joins each record to its person
  key through the spine's crosswalk; a new drop updates the raw table first and the spine only
  after linkage. So a model is requested when the spine changes (or will change this tick), and
  never while a raw table it reads was updated after the spine it reads: records without a
  person key never reach a use case, whichever sensor evaluates it and however runs interleave.
"""

import dagster as dg

AFTER_UPSTREAM = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("after_upstream")
)

RAW = dg.AssetSelection.key_prefixes(["raw"])
"""The agency tables intake writes (``raw/<agency>``): read by staging, keyed by linkage."""

_SPINE_UPDATED = dg.AutomationCondition.any_deps_updated().ignore(RAW).with_label("spine_updated")
# newly_updated carries each materialisation's time, so `since` below can tell which came last
# when a raw table and the spine both changed since the previous tick.
_SPINE_NEWLY_UPDATED = (dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
                        .ignore(RAW).with_label("spine_newly_updated"))
_SPINE_TO_BE_REBUILT = (dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested())
                        .ignore(RAW).with_label("spine_to_be_rebuilt_first"))
_RAW_UPDATED = (dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
                .allow(RAW).with_label("raw_updated"))

UNLINKED_UPSTREAM = _RAW_UPDATED.since(_SPINE_NEWLY_UPDATED).with_label("unlinked_upstream")
"""A raw table this model reads changed after the last change of its other inputs (the spine):
it holds records linkage has not keyed yet."""

AFTER_LINKAGE = (
    (dg.AutomationCondition.newly_missing() | _SPINE_UPDATED).since_last_handled()
    # Unlinked records wait, unless this same request rebuilds the spine first (one run, in
    # dependency order: linkage, the spine, then the models).
    & (~UNLINKED_UPSTREAM | _SPINE_TO_BE_REBUILT)
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after_linkage")
