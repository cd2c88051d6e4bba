"""Benchmark: intake throughput (receive, read, validate, standardise, split, write both stores).

Generates a synthetic city (``hub_assets.synth.generate_city``), then receives and ingests every
drop exactly as the ingest assets do under ``hub run`` (``ingest_drops``: all of an agency's drops
in one batch), timing each agency. Reports rows/second,
seconds per drop, the share of rows quarantined, and whether rows were lost (received =
accepted + quarantined, and the total equals the city's truth row count).
Writes ``benchmarks/results/intake_<persons>.json`` and prints the headline numbers; the
before/after comparison (and the ``hub run`` ingest stage) is kept in ``benchmarks/results/intake.md``.
Run: ``.venv/bin/python benchmarks/bench_intake.py [--persons 20000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]

    from hub_assets.defs.resources import HubResource
    from hub_assets.sources.declaration import load_agencies
    from hub_assets.sources.intake import ingest_drops
    from hub_assets.sources.landing import receive_new_drops
    from hub_assets.synth import generate_city

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        t = time.perf_counter()
        generate_city(persons=args.persons, seed=args.seed, out=data)
        synth_seconds = time.perf_counter() - t
        hub = HubResource(data_dir=str(data), secret_key="benchmark-key")
        per_agency = {}
        started, cpu_started = time.perf_counter(), _cpu()
        for source in load_agencies():
            t = time.perf_counter()
            drop_ids = receive_new_drops(source, hub.paths, set()).drop_ids
            results = ingest_drops(source, drop_ids, hub)
            seconds = time.perf_counter() - t
            rows = sum(r.rows_received for r in results)
            per_agency[source.name] = {
                "drops": len(results), "rows": rows, "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds) if seconds else None,
                "quarantined": sum(r.rows_quarantined for r in results),
                "lost": sum(r.rows_received - r.rows_accepted - r.rows_quarantined for r in results),
            }
        total_seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu_started
        truth_rows = pl.read_parquet(data / "truth" / "rows.parquet").height

    rows = sum(a["rows"] for a in per_agency.values())
    drops = sum(a["drops"] for a in per_agency.values())
    out = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
        # Other work on the machine slows a run down; the load average says how busy it was.
        "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "persons": args.persons, "seed": args.seed, "synth_seconds": round(synth_seconds, 1),
        "drops": drops, "rows": rows, "truth_rows": truth_rows,
        "rows_lost": sum(a["lost"] for a in per_agency.values()) + (truth_rows - rows),
        "intake_seconds": round(total_seconds, 1),
        # CPU seconds of this process (all threads) while ingesting: less sensitive to other load.
        "intake_cpu_seconds": round(cpu_seconds, 1), "rows_per_second": round(rows / total_seconds),
        "seconds_per_drop": round(total_seconds / drops, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "per_agency": per_agency,
    }
    path = ROOT / "benchmarks" / "results" / f"intake_{args.persons}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "per_agency"}, indent=2))


if __name__ == "__main__":
    main()
