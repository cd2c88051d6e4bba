"""A dbt build that writes only what governance allows: compile, judge, then build what passes.

:func:`plan_build` compiles the project (:mod:`~hub_assets.governance.dbt_compile`), judges what its
SQL reads (:mod:`~hub_assets.governance.lineage`) and returns the ``dbt build`` arguments that leave
out every refused node and everything downstream of it. Nothing is run before the judgement, so
a refused use case never reaches ``marts`` (or, through it, ``public``). Relations an earlier
build left for a use case that is now refused are dropped (:func:`drop_refused`): what its
agreement no longer covers is not left where analysts read. The verdict is kept in the data
directory (:func:`record`); the public release and the governance checks read it
(``governance.refusals``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from hub_assets.dbt.manifest import use_case_of
from hub_assets.governance.agreements import VERDICT_FILE, Governance
from hub_assets.governance.dbt_compile import compile_project
from hub_assets.governance.lineage import CompiledProject, Verdict, judge


@dataclass(frozen=True)
class BuildPlan:
    project: CompiledProject
    verdict: Verdict
    unknown: tuple[str, ...]  # nodes the running definitions do not know (left out, reported)

    @property
    def runs(self) -> bool:
        """False when the project's own hooks are refused: then no dbt build runs at all."""
        return not self.verdict.build_refusals

    @property
    def excluded_names(self) -> list[str]:
        nodes = self.project.manifest["nodes"]
        return sorted({nodes[uid]["name"] for uid in self.verdict.excluded} | {nodes[u]["name"] for u in self.unknown})

    def build_args(self, args: list[str]) -> list[str]:
        names = self.excluded_names
        return [*args, "--exclude", " ".join(names)] if names else list(args)

    def failures(self) -> list[str]:
        nodes = self.project.manifest["nodes"]
        return self.verdict.messages() + [
            f"{nodes[u]['resource_type']} {nodes[u]['name']} ({nodes[u].get('original_file_path')}) is not in the "
            f"loaded definitions (reload them), so it was not built" for u in self.unknown]


def plan_build(project_dir: Path, target_path: Path, governance: Governance, known: set[str] | None = None,
               today: dt.date | None = None, env: dict[str, str] | None = None) -> BuildPlan:
    project = compile_project(project_dir, target_path, env=env)
    verdict = judge(governance, project, today)
    unknown = ()
    if known is not None:
        unknown = tuple(sorted(uid for uid, n in project.manifest["nodes"].items()
                               if n.get("resource_type") in ("model", "seed", "snapshot")
                               and uid not in known and uid not in verdict.excluded))
    return BuildPlan(project, verdict, unknown)


def drop_refused(con, plan: BuildPlan) -> list[str]:
    """Drop what an earlier build wrote for the use cases now refused; returns the relations dropped."""
    nodes = plan.project.manifest["nodes"]
    existing = {(s.lower(), t.lower()): kind for s, t, kind in con.execute(
        "select table_schema, table_name, table_type from information_schema.tables").fetchall()}
    dropped = []
    for uid in sorted(plan.verdict.excluded):
        node = nodes[uid]
        if use_case_of(node) not in plan.verdict.refused:
            continue
        schema, name = node["schema"], node.get("alias") or node["name"]
        kind = existing.get((schema.lower(), name.lower()))
        if kind:
            con.execute(f'drop {"view" if kind == "VIEW" else "table"} if exists "{schema}"."{name}"')
            dropped.append(f"{schema}.{name}")
    return dropped


def record(plan: BuildPlan, data_dir: Path) -> Path:
    """Keep the verdict in the data directory, for the public release and the governance checks."""
    out = Path(data_dir) / VERDICT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               **plan.verdict.to_json()}, indent=1))
    return out
