"""``governance_agreement``: a blocking check on every governed asset (each use case's marts and
public tables) that the use case's agreement covers every source its lineage reaches — walked
through the dbt manifest, and through the Dagster asset graph the check runs in
(``governance/graph_lineage.py``) — and has not expired.

Each use case's checks run as one step per zone (``multi_asset_check``, subsettable), like the
disclosure checks (``defs/disclosure/checks.py``).
"""

import dagster as dg
from dagster_shared.check import CheckError

from hub_assets.dbt.manifest import load_manifest
from hub_assets.governance.agreements import graph_refusals, load_governance, refusals
from hub_assets.governance.graph_lineage import graph_lineage

CHECK = "governance_agreement"


def governance_result(use_case: str, asset_key: dg.AssetKey, asset_graph) -> dg.AssetCheckResult:
    """Whether the use case's agreement covers what ``asset_key`` reaches (manifest, and the Dagster
    ``asset_graph``) and is in force."""
    governance = load_governance()
    reached = graph_lineage(asset_graph, asset_key)
    problems = refusals(governance, load_manifest(), use_case) + graph_refusals(governance, use_case, reached)
    agreement = governance.agreement_for(use_case)
    return dg.AssetCheckResult(
        check_name=CHECK, asset_key=asset_key, passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": len(problems), "first_problems": "\n".join(problems[:20]),
                  "agreement": agreement.id if agreement else "none", "use_case": use_case,
                  "graph_lineage": ", ".join(sorted(reached)) or "not recorded"})


def _asset_graph(context: dg.AssetCheckExecutionContext):
    """The graph the check runs in: its code location's whole asset graph (every run the hub
    launches has one); a job executed in process without one (tests) walks the job's own graph."""
    try:
        return context.op_execution_context.repository_def.asset_graph
    except CheckError:  # no repository definition on the step context
        return context.op_execution_context.job_def.asset_layer.asset_graph


def build_governance_checks(use_case: str, asset_keys: list[dg.AssetKey], zone: str) -> dg.AssetChecksDefinition:
    """``governance_agreement`` on each of a use case's assets in one zone (marts, or public), as one
    step. One agreement governs the whole use case, so a refusal stops all of its assets alike; the
    marts and the public assets are checked in separate steps, since the public assets wait on the marts'."""

    @dg.multi_asset_check(
        name=f"governance_agreement_{use_case}_{zone}", can_subset=True,
        specs=[dg.AssetCheckSpec(CHECK, asset=key, blocking=True,
                                 description=f"The {use_case} agreement covers this lineage and is in force.")
               for key in asset_keys],
    )
    def _governance(context: dg.AssetCheckExecutionContext):
        asset_graph = _asset_graph(context)
        for check_key in sorted(context.selected_asset_check_keys, key=lambda c: c.asset_key.to_user_string()):
            yield governance_result(use_case, check_key.asset_key, asset_graph)

    return _governance
