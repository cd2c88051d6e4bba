"""Blocking checks on every public asset, reading what was actually published.

- ``disclosure_control``: no count 1..threshold visible; no suppressed cell recoverable from the
  margins (solved exactly, see ``privacy.recovery``); no visible rate on a suppressed count; no
  combination of quasi-identifiers at the finest grouping describing 1..threshold youth.
- ``governance_agreement``: the use case's agreement covers every source its lineage reaches —
  walked through the dbt manifest, and through the assembled Dagster graph
  (``defs/governance/graph_lineage.py``) — and has not expired.
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


def build_disclosure_checks(mart: PublishedMart) -> dg.AssetChecksDefinition:
    key = public_key(mart)

    @dg.multi_asset_check(
        name=f"disclosure_control_{mart.name}", pool=WRITER_POOL,
        specs=[dg.AssetCheckSpec(n, asset=key, blocking=True, description=d) for n, d in DISCLOSURE_CHECKS.items()],
    )
    def _checks(hub: HubResource):
        threshold = min_cell_size()
        with hub.warehouse(read_only=True) as con:
            table = read_public_table(con, mart.name)
        yield _result("no_small_counts_visible", key, small_counts_visible(table, mart.spec, threshold),
                      min_cell_size=threshold)
        yield _result("no_recoverable_suppressed_cells", key, recoverable_suppressed(table, mart.spec))
        yield _result("not_too_finely_grouped", key, too_finely_grouped(table, mart.spec, threshold),
                      min_cell_size=threshold)

    return _checks


def build_governance_check(use_case: str, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key, name="governance_agreement", blocking=True,
                    description=f"The {use_case} agreement covers this lineage and is in force.")
    def _governance() -> dg.AssetCheckResult:
        governance = load_governance()
        reached = GRAPH_LINEAGE.get(asset_key, frozenset())
        problems = refusals(governance, load_manifest(), use_case) + graph_refusals(governance, use_case, reached)
        agreement = governance.agreement_for(use_case)
        return _result("governance_agreement", asset_key, problems,
                       agreement=agreement.id if agreement else "none", use_case=use_case,
                       graph_lineage=", ".join(sorted(reached)) or "not recorded")

    return _governance
