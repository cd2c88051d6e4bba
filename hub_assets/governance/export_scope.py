"""Which warehouse relations an agreement's analyst export may carry: those whose lineage reaches
only the agreement's sources and the spine.

Lineage is what each node's compiled SQL and hooks really read (``lineage.node_reads``, the same
reading governance judges builds by), joined with the manifest's ``depends_on``, followed down
to sources. A read governance cannot place (the identity store, a file, an undeclared table)
counts as an uncovered source, so a relation reaching one is never in any agreement's scope.
Without a compiled project, the manifest's ``depends_on`` alone is used (the report says which).
"""

from __future__ import annotations

from hub_assets.dbt.manifest import sources_reached
from hub_assets.governance.lineage import BUILT, CompiledProject, _Resolver, node_reads

UNCOVERED = "uncovered: "


def relation_name(node: dict) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def lineage_from_manifest(manifest: dict, agencies: set[str]) -> dict[str, set[str]]:
    """``schema.relation`` -> sources its ``depends_on`` lineage reaches."""
    return {relation_name(node): sources_reached(manifest, uid, agencies)
            for uid, node in manifest.get("nodes", {}).items() if node.get("resource_type") in BUILT}


def lineage_from_compiled(project: CompiledProject, agencies: set[str]) -> dict[str, set[str]]:
    """``schema.relation`` -> sources reached through what the compiled SQL, the hooks and the
    manifest's ``depends_on`` read; unplaceable reads as ``uncovered: <what>``."""
    nodes = project.manifest.get("nodes", {})
    sources = project.manifest.get("sources", {})
    resolver = _Resolver(project.manifest, agencies)
    parents: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") not in BUILT:
            continue
        reads = node_reads(project, resolver, uid)
        parents[uid] = {r.target for r in reads if r.kind == "node"}
        direct[uid] = ({r.target for r in reads if r.kind == "source"}
                       | {UNCOVERED + r.target for r in reads if r.kind == "uncovered"})
        for dep in node.get("depends_on", {}).get("nodes", []):
            if dep in sources:
                direct[uid] |= sources_reached(project.manifest, dep, agencies)
            elif dep in nodes:
                parents[uid].add(dep)
    memo: dict[str, set[str]] = {}

    def reached(uid: str, path: frozenset[str]) -> set[str]:
        if uid in memo:
            return memo[uid]
        out = set(direct.get(uid, ()))
        for parent in parents.get(uid, ()):
            if parent not in path:
                out |= reached(parent, path | {uid})
        memo[uid] = out
        return out

    return {relation_name(nodes[uid]): reached(uid, frozenset()) for uid in direct}


def in_scope(lineage: dict[str, set[str]], allowed: set[str]) -> dict[str, set[str]]:
    """The relations whose lineage reaches only ``allowed`` sources (and at least one)."""
    return {relation: reached for relation, reached in lineage.items() if reached and reached <= allowed}
