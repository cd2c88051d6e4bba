"""Benchmark: how long the synthetic city takes at 200,000 youth, and how many records it yields.

Writes ``benchmarks/results/synth.json``: seconds, persons, rows and identity records per
agency, records per person (to size cities for the linkage benchmark) and peak RSS.
Run: ``.venv/bin/python benchmarks/bench_synth.py [--persons N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from hub_assets.synth import generate_city

RESULTS = Path(__file__).parent / "results" / "synth.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate_city(args.persons, args.seed, Path(tmp))
        seconds = time.perf_counter() - started
        truth = Path(tmp) / "truth"
        persons = pl.read_parquet(truth / "persons.parquet")
        records = pl.read_parquet(truth / "records.parquet")
        rows = pl.read_parquet(truth / "rows.parquet")
        landing_bytes = sum(p.stat().st_size for p in (Path(tmp) / "landing").rglob("*") if p.is_file())
    result = {
        "persons_requested": args.persons,
        "youth": int(persons["is_youth"].sum()),
        "adults": int((~persons["is_youth"]).sum()),
        "seconds": round(seconds, 2),
        "identity_records": records.height,
        "identity_records_per_youth": round(records.height / args.persons, 3),
        "rows": rows.height,
        "rows_per_agency": dict(sorted(rows.group_by("agency").len().rows())),
        "identity_records_per_source": dict(sorted(records.group_by("source").len().rows())),
        "landing_megabytes": round(landing_bytes / 1e6, 1),
        "peak_rss_megabytes": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(summary)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
