"""Blocking checks on every public asset, reading what was actually published.

- ``disclosure_control``: every rule of ``disclosure.table_checks.TABLE_RULES`` on each published
  table at its own threshold (``governance.agreements.table_thresholds``: raised for a table whose
  lineage reaches a stricter source): no count 1..threshold visible, no visible rate on a suppressed
  count, no combination of quasi-identifiers at the finest grouping describing 1..threshold youth;
  and the attacker audit (``disclosure.release_audit``) over all of the use case's public tables
  and the release before, each table at its own threshold: no suppressed cell determined exactly
  or, when it may be small, within an interval narrower than the protection width; no change since
  the last release readable exactly.

The ``governance_agreement`` checks on the same assets are governance's (``defs/governance/checks.py``).

Each use case's checks run as one step per zone (``multi_asset_check``, subsettable): a Dagster step
costs about a quarter of a second of event-log writes on the embedded SQLite instance, and one step
per mart and check added about 10 s to every ``hub run``.
"""


import dagster as dg

from hub_assets.dbt.manifest import PublishedMart, load_manifest
from hub_assets.defs.disclosure.assets import public_key
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.disclosure.protect import audit_release
from hub_assets.disclosure.release import (
    current_publication,
    load_release_before_current,
    publication_before_current,
    read_public_table,
)
from hub_assets.disclosure.suppression import disclosure_settings
from hub_assets.disclosure.table_checks import TABLE_RULES
from hub_assets.governance.agreements import load_governance, table_thresholds

AUDIT_CHECK = "no_recoverable_suppressed_cells"
DISCLOSURE_CHECKS = {
    **{rule.name: rule.description for rule in TABLE_RULES},
    AUDIT_CHECK: "No suppressed cell can be solved for, or pinned within the protection width, from all public "
                 "tables of this release and the previous one; no change since the previous release reads exactly.",
}


def _result(name: str, key: dg.AssetKey, problems: list[str], **meta) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=name, asset_key=key, passed=not problems,
                               severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"problems": len(problems), "first_problems": "\n".join(problems[:20]), **meta})


def build_disclosure_checks(use_case: str, marts: list[PublishedMart]) -> dg.AssetChecksDefinition:
    """The disclosure checks of one use case's public assets, as one step (runs the selected subset)."""
    by_key = {public_key(mart): mart for mart in marts}

    @dg.multi_asset_check(
        name=f"disclosure_control_{use_case}", pool=WRITER_POOL, can_subset=True,
        specs=[dg.AssetCheckSpec(n, asset=key, blocking=True, description=d)
               for key in by_key for n, d in DISCLOSURE_CHECKS.items()],
    )
    def _checks(context: dg.AssetCheckExecutionContext, hub: HubResource):
        # Each table meets the strictest threshold of any source its own lineage reaches.
        thresholds = table_thresholds(marts, load_governance(), load_manifest())
        base = disclosure_settings().rounding_base
        selected = context.selected_asset_check_keys
        with hub.warehouse(read_only=True) as con:
            published = {mart.name: (mart, read_public_table(con, mart.name)) for mart in marts}
        previous = {n: (published[n][0], t) for n, t in
                    load_release_before_current(hub.paths.public).items() if n in published}
        audit = None
        for key, mart in by_key.items():
            wanted = {c.name for c in selected if c.asset_key == key}
            table = published[mart.name][1]
            for rule in TABLE_RULES:
                if rule.name in wanted:
                    yield _result(rule.name, key, rule.problems(table, mart.spec, thresholds[mart.name], base),
                                  min_cell_size=thresholds[mart.name], rounding_base=base)
            if AUDIT_CHECK in wanted:
                audit = audit or audit_release(published, previous, thresholds,
                                               current_publication(hub.paths.public, thresholds),
                                               publication_before_current(hub.paths.public, thresholds))
                yield _result(AUDIT_CHECK, key, audit.failures_of(mart.name), **audit.metadata())

    return _checks
