"""Governance on what the dbt project's SQL really reads, judged before anything is built.

Input: a compiled project (:mod:`hub_assets.governance.dbt_compile`): dbt's manifest with every
node's ``compiled_code``, and every pre-/post-hook rendered as dbt would run it. Each piece of SQL
is read with :func:`~hub_assets.governance.sql_reads.sql_reads`, and each relation it names is
resolved against the warehouse: a node of the project (model, seed, snapshot), a declared source
(``raw.<agency>``, ``spine.*``), or something no agreement can cover — the identity store or any
other catalog, a file, a table the project does not declare, a statement such as ``ATTACH``.

For each use case, the walk starts at its models and follows every node they read (by ``ref``
or by a hard-coded name) down to sources. A use case is refused when that walk reads an agency
its agreement does not list, another use case's relations, or anything uncovered; the reason
names the use case, the relation, where it is read, and the agreement. :func:`judge` also says
which nodes must not be built (the refused use cases' models, what only they need, what reads
outside the warehouse, and everything downstream of those), and whether the project's own
on-run-start/-end hooks stop the whole build.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from hub_assets.dbt.manifest import use_case_of
from hub_assets.governance.agreements import Governance, refusals
from hub_assets.governance.sql_reads import Touch, sql_reads

BUILT = ("model", "seed", "snapshot")
IDENTITY_CATALOG = "identity"  # identity.duckdb, were it attached


@dataclass(frozen=True)
class CompiledProject:
    manifest: dict  # dbt's manifest after `dbt compile` (nodes carry compiled_code)
    hooks: dict[str, list[tuple[str, str]]]  # unique_id -> [(which hook, rendered SQL)]


@dataclass(frozen=True)
class Read:
    node: str  # the unique_id whose SQL reads it
    where: str  # "compiled SQL", "post-hook 1", ...
    touch: Touch
    kind: str  # "node", "source", "uncovered"
    target: str  # node unique_id, source (agency) name, or why it is uncovered


@dataclass
class Verdict:
    refusals: dict[str, list[str]] = field(default_factory=dict)  # use case -> reasons (empty: passes)
    build_refusals: list[str] = field(default_factory=list)  # project hooks: no build at all
    node_problems: dict[str, list[str]] = field(default_factory=dict)  # reads outside the warehouse
    excluded: set[str] = field(default_factory=set)  # unique_ids not to build
    reads: dict[str, list[str]] = field(default_factory=dict)  # use case -> relations its lineage reads

    @property
    def refused(self) -> dict[str, list[str]]:
        return {uc: reasons for uc, reasons in self.refusals.items() if reasons}

    def messages(self) -> list[str]:
        return [*self.build_refusals, *(r for reasons in self.refused.values() for r in reasons),
                *(p for problems in self.node_problems.values() for p in problems)]

    def to_json(self) -> dict:
        return {"refusals": self.refusals, "build_refusals": self.build_refusals,
                "node_problems": self.node_problems, "excluded": sorted(self.excluded), "reads": self.reads}


def _label(manifest: dict, uid: str) -> str:
    node = manifest["nodes"].get(uid, {})
    return f"{node.get('resource_type', 'node')} {node.get('name', uid)} ({node.get('original_file_path', uid)})"


class _Resolver:
    """Relations named in SQL -> project nodes, sources, or why they are uncovered."""

    def __init__(self, manifest: dict, agencies: set[str]):
        self.relations: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.database = "warehouse"
        for uid, node in manifest.get("nodes", {}).items():
            if node.get("resource_type") in BUILT:
                self.database = (node.get("database") or self.database).lower()
                key = (self.database, node["schema"].lower(), (node.get("alias") or node["name"]).lower())
                self.relations[key] = ("node", uid)
        for src in manifest.get("sources", {}).values():
            agency = (src.get("meta") or {}).get("agency")
            name = agency or (src["name"] if src["name"] in agencies else src["source_name"])
            key = ((src.get("database") or self.database).lower(), src["schema"].lower(),
                   (src.get("identifier") or src["name"]).lower())
            self.relations[key] = ("source", name)
        self.schemas = {s for (_, s, _) in self.relations} | {"main", "raw", "spine"}
        self.agencies = agencies

    def resolve(self, touch: Touch) -> tuple[str, str]:
        if touch.kind == "file":
            return "uncovered", f"{touch.text}, outside the warehouse"
        if touch.kind != "relation":
            return "uncovered", touch.text
        catalog, schema, name = touch.parts
        if not catalog and schema and schema not in self.schemas:
            catalog, schema = schema, "main"  # DuckDB reads `a.b` as catalog a when no schema a exists
        catalog, schema = catalog or self.database, schema or "main"
        if IDENTITY_CATALOG in (catalog, schema):
            return "uncovered", f"the identity store ({touch.text})"
        if catalog != self.database:
            return "uncovered", f"{touch.text} in catalog {catalog!r}, outside the warehouse"
        found = self.relations.get((catalog, schema, name))
        if found:
            return found
        if schema == "raw" and name in self.agencies:
            return "source", name
        return "uncovered", f"{touch.text}, which is no model, seed, snapshot or declared source of the project"


def node_reads(project: CompiledProject, resolver: _Resolver, uid: str) -> list[Read]:
    node = project.manifest["nodes"][uid]
    pieces = [("compiled SQL", node.get("compiled_code") or "")] + list(project.hooks.get(uid, []))
    this = resolver.relations.get((resolver.database, node.get("schema", "").lower(),
                                   (node.get("alias") or node.get("name", "")).lower()))
    reads = []
    for where, sql in pieces:
        for touch in sql_reads(sql) if sql.strip() else []:
            kind, target = resolver.resolve(touch)
            if touch.writes and (kind, target) != this:
                what = node.get("resource_type")
                kind, target = "uncovered", f"a write to {touch.text}, which is not the {what} itself"
            reads.append(Read(uid, where, touch, kind, target))
    return reads


def judge(governance: Governance, project: CompiledProject, today: dt.date | None = None) -> Verdict:
    manifest = project.manifest
    nodes = manifest.get("nodes", {})
    resolver = _Resolver(manifest, set(governance.agencies))
    built = sorted(uid for uid, n in nodes.items() if n.get("resource_type") in BUILT)
    reads = {uid: node_reads(project, resolver, uid) for uid in built}
    verdict = Verdict()

    for uid in sorted(u for u, n in nodes.items() if n.get("resource_type") == "operation"):
        for read in node_reads(project, resolver, uid):
            if read.kind != "node" or read.touch.writes:
                target = read.target if read.kind != "source" else read.touch.text
                verdict.build_refusals.append(
                    f"the project hook {nodes[uid]['name']} reads {target}"
                    f"; no agreement covers a hook that runs in every build, so nothing is built"
                )

    for uid, node_read in reads.items():
        problems = [
            f"{_label(manifest, uid)} {r.where} reads {r.target}; no agreement covers it, so it is not built"
            for r in node_read
            if r.kind == "uncovered"
        ]
        if problems:
            verdict.node_problems[uid] = problems

    use_cases = sorted(
        set(governance.agreements)
        | {use_case_of(nodes[u]) for u in built if nodes[u].get("resource_type") == "model" and use_case_of(nodes[u])}
    )
    causes: dict[str, set[str]] = defaultdict(set)  # use case -> nodes whose reads refused it
    reached: dict[str, set[str]] = {}
    for use_case in use_cases:
        reasons, reached[use_case], relations = _walk(governance, manifest, reads, use_case, causes[use_case])
        reasons = refusals(governance, manifest, use_case, today, recorded=False) + reasons
        verdict.refusals[use_case] = reasons
        verdict.reads[use_case] = relations

    passing = set().union(*(reached[uc] for uc in use_cases if not verdict.refusals[uc]))
    roots = set(verdict.node_problems)
    for use_case in verdict.refused:
        roots |= {u for u in built if use_case_of(nodes[u]) == use_case and nodes[u]["resource_type"] == "model"}
        roots |= causes[use_case] - passing
    verdict.excluded = _downstream(nodes, reads, roots)
    return verdict


def _walk(
    governance: Governance, manifest: dict, reads: dict[str, list[Read]], use_case: str, causes: set[str]
) -> tuple[list[str], set[str], list[str]]:
    """Reasons to refuse the use case, the nodes its lineage reaches, and the relations it reads."""
    nodes = manifest["nodes"]
    agreement = governance.agreement_for(use_case)
    allowed = (set(agreement.sources) if agreement else set()) | set(governance.shared_sources)
    covered_by = (
        f"agreement {agreement.id} does not list it (it allows {sorted(agreement.sources)})"
        if agreement
        else "the use case has no agreement"
    )
    start = [u for u in reads if nodes[u].get("resource_type") == "model" and use_case_of(nodes[u]) == use_case]
    seen: set[str] = set()
    reasons: list[str] = []
    relations: set[str] = set()
    stack = list(start)
    while stack:
        uid = stack.pop()
        if uid in seen or uid not in reads:
            continue
        seen.add(uid)
        stack.extend(d for d in nodes[uid].get("depends_on", {}).get("nodes", []) if d in reads)
        for read in reads[uid]:
            relations.add(read.touch.text)
            where = f"{_label(manifest, uid)}, {read.where}"
            if read.kind == "node":
                owner = use_case_of(nodes[read.target]) if nodes[read.target]["resource_type"] == "model" else None
                if owner and owner != use_case:
                    causes.add(uid)
                    reasons.append(
                        f"use case {use_case!r} reads {read.touch.text}, a relation of use case "
                        f"{owner!r}, in {where}; {_agreement(agreement)} covers only {use_case!r}"
                    )
                else:
                    stack.append(read.target)
            elif read.kind == "source" and read.target not in allowed:
                causes.add(uid)
                reasons.append(
                    f"use case {use_case!r} reads {read.touch.text} (source {read.target!r}) in "
                    f"{where}, and {covered_by}"
                )
            elif read.kind == "uncovered":
                causes.add(uid)
                reasons.append(
                    f"use case {use_case!r} reads {read.target} in {where}; {_agreement(agreement)} does not cover it"
                )
    return reasons, seen, sorted(relations)


def _agreement(agreement) -> str:
    return f"agreement {agreement.id}" if agreement else "no agreement"


def _downstream(nodes: dict, reads: dict[str, list[Read]], roots: set[str]) -> set[str]:
    children: dict[str, set[str]] = defaultdict(set)
    for uid, node in nodes.items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            children[parent].add(uid)
    for uid, node_reads_ in reads.items():
        for read in node_reads_:
            if read.kind == "node":
                children[read.target].add(uid)
    out: set[str] = set()
    stack = list(roots)
    while stack:
        uid = stack.pop()
        if uid in out:
            continue
        out.add(uid)
        stack.extend(children[uid])
    return {u for u in out if nodes.get(u, {}).get("resource_type") in BUILT}
