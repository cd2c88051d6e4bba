"""Blocking checks on every public asset, reading what was actually published.

- ``disclosure_control``: every rule of the registry ``disclosure.rules.DISCLOSURE_RULES`` (the
  rules the release itself applied) on each published table at its own threshold
  (``governance.agreements.table_thresholds``: raised for a table whose lineage reaches a stricter
  source): no count 1..threshold visible, no visible rate on a suppressed count, no combination of
  quasi-identifiers at the finest grouping describing 1..threshold youth; and the attacker audit
  (``disclosure.release_audit``) over all of the use case's public tables and the release before,
  each table at its own threshold: no suppressed cell determined exactly or, when it may be small,
  within an interval narrower than the protection width; no change since the last release
  readable exactly.

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
from hub_assets.disclosure.rules import DISCLOSURE_RULES, Release
from hub_assets.disclosure.suppression import disclosure_settings
from hub_assets.governance.agreements import load_governance, table_thresholds


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
               for key in by_key for n, d in ((r.name, r.description) for r in DISCLOSURE_RULES)],
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
        release = Release(published, thresholds, base, audit_of=lambda: audit_release(
            published, previous, thresholds, current_publication(hub.paths.public, thresholds),
            publication_before_current(hub.paths.public, thresholds)))
        for key, mart in by_key.items():
            wanted = {c.name for c in selected if c.asset_key == key}
            for rule in DISCLOSURE_RULES:
                if rule.name in wanted:
                    yield _result(rule.name, key, rule.problems(release, mart.name),
                                  **rule.metadata(release, mart.name))

    return _checks
