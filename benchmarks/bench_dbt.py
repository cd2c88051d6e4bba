"""Benchmark: the dbt stage (``dbt build``: models, data tests, unit tests) on a built hub's warehouse.

Works on a copy of the warehouse (never locks or changes the original), in a fresh target folder,
so the first build parses in full as a fresh hub's does; ``--repeat 2`` adds a second build that
starts from the first one's parse, as every later build does (``hub_assets/dbt/parse_cache``).
Records wall and CPU seconds, peak memory of dbt, and seconds per model and per kind of node from
``run_results.json``. Writes ``benchmarks/results/dbt.json`` and ``.md``.

Run: ``.venv/bin/python benchmarks/bench_dbt.py --data-dir /path/to/built/hub [--threads 1] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DBT = str(Path(sys.executable).parent / "dbt")


def build(data_dir: Path, target: Path, threads: int) -> dict:
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(target), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    log_path = target / "dbt.log"
    log_start = log_path.stat().st_size if log_path.exists() else 0  # dbt appends to one log per target
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([DBT, "build", "-q", "--threads", str(threads)], cwd=ROOT / "dbt_project", env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"dbt build failed:\n{done.stdout[-4000:]}")
    run = json.loads((target / "run_results.json").read_text())
    per_kind: dict[str, float] = {}
    models = []
    for result in run["results"]:
        kind = result["unique_id"].split(".")[0]
        per_kind[kind] = per_kind.get(kind, 0.0) + result["execution_time"]
        if kind == "model":
            models.append((round(result["execution_time"], 2), result["unique_id"].split(".")[-1]))
    with log_path.open("rb") as fh:
        fh.seek(log_start)
        log = fh.read().decode(errors="replace")
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_mb": round(after.ru_maxrss / 1024),
        "nodes_seconds": round(run["elapsed_time"], 1),
        "parse": "partial" if "Unable to do partial parsing" not in log else "full",
        "seconds_by_kind": {k: round(v, 1) for k, v in sorted(per_kind.items())},
        "slowest_models": sorted(models, reverse=True)[:12],
        "nodes": len(run["results"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_dbt_"))
    try:
        shutil.copy(args.data_dir / "warehouse.duckdb", work / "warehouse.duckdb")
        target = work / "target"
        builds = []
        for _ in range(args.repeat):  # the same target folder: the second build finds the first's parse
            builds.append(build(work, target, args.threads))
    finally:
        shutil.rmtree(work)
    raw_rows = _raw_rows(args.data_dir)
    results = {"run_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
               "cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2), "data_dir": str(args.data_dir),
               "raw_rows": raw_rows, "threads": args.threads, "builds": builds}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dbt.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "dbt.md").write_text(_markdown(results))
    for n, b in enumerate(builds, start=1):
        print(f"build {n}: {b['wall_seconds']} s wall ({b['parse']} parse), nodes {b['nodes_seconds']} s, "
              f"cpu {b['cpu_seconds']} s, peak {b['peak_mb']} MB")


def _raw_rows(data_dir: Path) -> int:
    import duckdb

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        return sum(con.execute(f'select count(*) from raw."{t}"').fetchall()[0][0] for (t,) in tables)


def _markdown(r: dict) -> str:
    lines = ["# dbt stage benchmark", "",
             f"Run {r['run_at']} on {r['machine']}, {r['cores']} cores, 1-min load average {r['load_average_1m']} "
             f"(the machine is shared: wall seconds rise with load, CPU seconds much less).", "",
             f"Warehouse with {r['raw_rows']:,} raw rows; dbt threads {r['threads']}.", "",
             "| build | parse | wall s | nodes s | CPU s | peak MB | seconds by kind | slowest models (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for n, b in enumerate(r["builds"], start=1):
        kinds = "; ".join(f"{k} {v}" for k, v in b["seconds_by_kind"].items())
        slow = "; ".join(f"{m} {s}" for s, m in b["slowest_models"][:6])
        lines.append(f"| {n} | {b['parse']} | {b['wall_seconds']} | {b['nodes_seconds']} | {b['cpu_seconds']} | "
                     f"{b['peak_mb']} | {kinds} | {slow} |")
    lines += ["", "Command: `.venv/bin/python benchmarks/bench_dbt.py --data-dir <built hub>`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
