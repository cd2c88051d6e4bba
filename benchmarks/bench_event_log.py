"""Event-log cost per event: Dagster's stock SQLite storage against the hub's (engines reused).

Each storage gets a fresh instance folder (the shipped ``deploy/dagster.yaml``, with and without
its ``storage:`` block) and runs one warm-up and then ``--runs`` runs of a job that
materialises 100 assets with one check each (about 500 events a run, the shape of a dbt build).
Every run is its own process, so both storages pay the same import and start-up costs, which
are not counted: only ``execute_in_process`` is timed.

Writes ``benchmarks/results/event_log.json`` and ``.md``.
Usage: ``python benchmarks/bench_event_log.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SHIPPED = ROOT / "deploy" / "dagster.yaml"

WORKER = """
import json, sys, time
import dagster as dg
N = 100
@dg.multi_asset(specs=[dg.AssetSpec(f"a{i}") for i in range(N)],
                check_specs=[dg.AssetCheckSpec("ok", asset=f"a{i}") for i in range(N)])
def many():
    for i in range(N):
        yield dg.MaterializeResult(asset_key=f"a{i}", check_results=[
            dg.AssetCheckResult(asset_key=f"a{i}", check_name="ok", passed=True)])
job = dg.Definitions(assets=[many]).resolve_implicit_global_asset_job_def()
instance = dg.DagsterInstance.get()
quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
job.execute_in_process(instance=instance, run_config=quiet)  # warm-up: creates the databases
out = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    result = job.execute_in_process(instance=instance, run_config=quiet)
    seconds = time.perf_counter() - start
    out.append({"seconds": seconds, "events": len(instance.all_logs(result.run_id))})
print(json.dumps({"storage": type(instance.event_log_storage).__name__, "runs": out}))
"""


def stock_config() -> str:
    """The shipped config without its ``storage:`` block (Dagster's default SQLite storage)."""
    return re.sub(r"\nstorage:\n(  .*\n)+", "\n", SHIPPED.read_text())


def measure(config: str, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="hub-eventlog-") as home:
        Path(home, "dagster.yaml").write_text(config)
        proc = subprocess.run([sys.executable, "-c", WORKER, str(runs)], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, "DAGSTER_HOME": home})
        if proc.returncode:
            raise RuntimeError(proc.stderr[-3000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    ms = [1000 * r["seconds"] / r["events"] for r in result["runs"]]
    return {**result, "ms_per_event": ms, "best_ms_per_event": min(ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stock, hub = measure(stock_config(), args.runs), measure(SHIPPED.read_text(), args.runs)
    meta = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average": os.getloadavg()[0]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "event_log.json").write_text(json.dumps({**meta, "stock": stock, "hub": hub}, indent=2))
    lines = ["# Event-log cost per event", "",
             f"Run {meta['at']} on {meta['machine']}, load average {meta['load_average']:.1f} at start.", "",
             "| storage | events per run | ms per event (each run) | best |", "|---|---|---|---|"]
    for name, r in (("Dagster's SqliteEventLogStorage", stock), ("hub: HubSqliteEventLogStorage", hub)):
        each = ", ".join(f"{m:.1f}" for m in r["ms_per_event"])
        lines.append(f"| {name} | {r['runs'][0]['events']} | {each} | {r['best_ms_per_event']:.1f} |")
    lines += ["", "Command: `.venv/bin/python benchmarks/bench_event_log.py`"]
    (RESULTS / "event_log.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
