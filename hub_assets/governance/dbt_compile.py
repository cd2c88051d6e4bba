"""The dbt project compiled as it would run, for governance to read before anything is built.

``dbt compile`` writes every model's, snapshot's and project hook's SQL into the manifest
(``compiled_code``), but keeps model, seed and snapshot pre-/post-hooks as unrendered Jinja:
dbt renders them only while running the node, with the node's own context (``{{ this }}``,
macros, ``api.Relation.create``). So this module runs dbt in-process — parse, compile — and then
renders each hook the way dbt's ``run_hooks`` macro does (``render`` in the node's runtime
context), without executing it. SQL that Jinja itself runs while compiling (``run_query`` or a
``statement`` block in a macro) is captured from dbt's events and kept with its node, and the
warehouse is opened read-only, so compiling can read but never write. It writes, into the target
folder, dbt's manifest with the compiled SQL and ``governance_compile.json`` with the rendered
hooks and the SQL run while compiling.

It runs in its own process (:func:`compile_project`): dbt keeps global state (flags, adapters)
that must not leak into the Dagster process or into the next compile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hub_assets.governance.lineage import CompiledProject

HOOKS_FILE = "governance_compile.json"
HOOKED = ("model", "seed", "snapshot")


class CompileFailed(RuntimeError):
    pass


def compile_project(project_dir: Path, target_path: Path, profiles_dir: Path | None = None,
                    env: dict[str, str] | None = None) -> CompiledProject:
    """Compile ``project_dir`` into ``target_path`` (in a subprocess) and read the result."""
    target_path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", __name__, str(project_dir), str(target_path), str(profiles_dir or project_dir)],
        env={**os.environ, **(env or {}), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise CompileFailed(f"dbt compile of {project_dir} failed, so nothing was built:\n"
                            f"{(done.stdout + done.stderr)[-4000:]}")
    return read_compiled(target_path)


def read_compiled(target_path: Path) -> CompiledProject:
    manifest = json.loads((target_path / "manifest.json").read_text())
    hooks = json.loads((target_path / HOOKS_FILE).read_text())["hooks"]
    return CompiledProject(manifest, {uid: [tuple(h) for h in pieces] for uid, pieces in hooks.items()})


def _compile_in_process(project_dir: str, target_path: str, profiles_dir: str) -> int:
    from dbt.adapters.factory import register_adapter
    from dbt.cli.main import dbtRunner
    from dbt.clients.jinja import get_rendered
    from dbt.config.runtime import RuntimeConfig
    from dbt.context.providers import generate_runtime_model_context
    from dbt.flags import get_flags
    from dbt.mp_context import get_mp_context

    # Logs go with the build's in its target folder (info level, as the build's: see defs/dbt/assets.py).
    args = ["--project-dir", project_dir, "--profiles-dir", profiles_dir, "--target-path", target_path,
            "--log-path", target_path, "--log-level-file", "info"]
    parsed = dbtRunner().invoke(["parse", *args])
    if not parsed.success:
        print(parsed.exception, file=sys.stderr)
        return 1
    manifest = parsed.result
    # SQL that Jinja runs while compiling (run_query, statement blocks in macros) is judged with the
    # node that ran it: its result can reach the compiled SQL as literals. And compiling writes
    # nothing: the warehouse is opened read-only, so such SQL cannot write before the judgement.
    ran: dict[str, list[str]] = {}

    def on_event(event) -> None:
        if event.info.name == "SQLQuery" and event.data.node_info.unique_id:
            ran.setdefault(event.data.node_info.unique_id, []).append(event.data.sql)

    _open_read_only()
    compiled = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(["compile", *args])
    if not compiled.success:
        print(compiled.exception, file=sys.stderr)
        return 1
    # The same rendering as dbt's run_hooks macro: render(hook.sql) in the node's runtime context.
    config = RuntimeConfig.from_args(get_flags())
    register_adapter(config, get_mp_context())
    hooks: dict[str, list[tuple[str, str]]] = {}
    for uid, node in manifest.nodes.items():
        pieces = [(f"{kind.replace('_', '-')} {i}", hook.sql)
                  for kind in ("pre_hook", "post_hook") for i, hook in enumerate(getattr(node.config, kind, []), 1)]
        if node.resource_type.value not in HOOKED or not pieces:
            continue
        context = generate_runtime_model_context(node, config, manifest)
        hooks[uid] = [(where, get_rendered(sql, context, node)) for where, sql in pieces]
    for uid, statements in ran.items():
        hooks.setdefault(uid, []).extend((f"SQL run while compiling {i}", sql) for i, sql in enumerate(statements, 1))
    Path(target_path, HOOKS_FILE).write_text(json.dumps({"hooks": hooks}, indent=1))
    return 0


def _open_read_only() -> None:
    """Every DuckDB connection of this (compile-only) process is read-only: dbt-duckdb opens the
    warehouse with ``read_only=False`` and offers no switch, so the call is wrapped here."""
    import duckdb

    connect = duckdb.connect

    def read_only(database=":memory:", read_only=False, config=None, **kwargs):  # noqa: ANN001, ANN202
        if database != ":memory:" and not Path(database).exists():
            connect(database).close()  # a read-only open of a missing file fails: create it empty once
        return connect(database, read_only=True, config=config or {}, **kwargs)

    duckdb.connect = read_only


if __name__ == "__main__":
    sys.exit(_compile_in_process(*sys.argv[1:4]))
