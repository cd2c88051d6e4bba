"""Blocking checks on every public asset, reading what was actually published.

- ``disclosure_control``: no count 1..threshold visible; no suppressed cell recoverable from the
  margins (solved exactly, see ``privacy.recovery``); no visible rate on a suppressed count; no
  combination of quasi-identifiers at the finest grouping describing 1..threshold youth.
- ``governance_agreement``: the use case's agreement covers every source its lineage reaches —
  walked through the dbt manifest, and through the assembled Dagster graph
  (``defs/governance/graph_lineage.py``) — and has not expired.

Each use case's checks run as one step per zone (``multi_asset_check``, subsettable): a Dagster step
costs about a quarter of a second of event-log writes on the embedded SQLite instance, and one step
per mart and check added about 10 s to every ``hub run``.
"""


import dagster as dg

from hub_assets.defs.governance.graph_lineage import GRAPH_LINEAGE
from hub_assets.defs.public.assets import public_key
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.privacy.disclosure import recoverable_suppressed, small_counts_visible, too_finely_grouped
from hub_assets.privacy.governance import graph_refusals, load_governance, refusals
from hub_assets.privacy.manifest import PublishedMart, load_manifest
from hub_assets.privacy.release import read_public_table
from hub_assets.privacy.suppression import min_cell_size

DISCLOSURE_CHECKS = {
    "no_small_counts_visible": "No count from 1 to the threshold is visible.",
    "no_recoverable_suppressed_cells": "No suppressed cell can be solved for from the published margins.",
    "not_too_finely_grouped": "No finest-grouping combination describes 1..threshold youth.",
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
        threshold = min_cell_size()
        selected = context.selected_asset_check_keys
        for key, mart in by_key.items():
            wanted = {c.name for c in selected if c.asset_key == key}
            if not wanted:
                continue
            with hub.warehouse(read_only=True) as con:
                table = read_public_table(con, mart.name)
            if "no_small_counts_visible" in wanted:
                yield _result("no_small_counts_visible", key, small_counts_visible(table, mart.spec, threshold),
                              min_cell_size=threshold)
            if "no_recoverable_suppressed_cells" in wanted:
                yield _result("no_recoverable_suppressed_cells", key, recoverable_suppressed(table, mart.spec))
            if "not_too_finely_grouped" in wanted:
                yield _result("not_too_finely_grouped", key, too_finely_grouped(table, mart.spec, threshold),
                              min_cell_size=threshold)

    return _checks


def governance_result(use_case: str, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    """Whether the use case's agreement covers what ``asset_key`` reaches (manifest and graph) and is in force."""
    governance = load_governance()
    reached = GRAPH_LINEAGE.get(asset_key, frozenset())
    problems = refusals(governance, load_manifest(), use_case) + graph_refusals(governance, use_case, reached)
    agreement = governance.agreement_for(use_case)
    return _result("governance_agreement", asset_key, problems,
                   agreement=agreement.id if agreement else "none", use_case=use_case,
                   graph_lineage=", ".join(sorted(reached)) or "not recorded")


def build_governance_checks(use_case: str, asset_keys: list[dg.AssetKey], zone: str) -> dg.AssetChecksDefinition:
    """``governance_agreement`` on each of a use case's assets in one zone (marts, or public), as one
    step. One agreement governs the whole use case, so a refusal stops all of its assets alike; the
    marts and the public assets are checked in separate steps, since the public assets wait on the marts'."""

    @dg.multi_asset_check(
        name=f"governance_agreement_{use_case}_{zone}", can_subset=True,
        specs=[dg.AssetCheckSpec("governance_agreement", asset=key, blocking=True,
                                 description=f"The {use_case} agreement covers this lineage and is in force.")
               for key in asset_keys],
    )
    def _governance(context: dg.AssetCheckExecutionContext):
        for check_key in sorted(context.selected_asset_check_keys, key=lambda c: c.asset_key.to_user_string()):
            yield governance_result(use_case, check_key.asset_key)

    return _governance
