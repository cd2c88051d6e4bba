"""Cluster precision and recall by match threshold, on synthetic cities: how MATCH_THRESHOLD
is chosen. The rule: the lowest threshold whose cluster precision is >= 0.995 at every size of
the validation city (seed 12), which is not the city the linkage benchmark reports on (seed 11,
bench_linkage.py), so the benchmark's figures are not tuned on its own truth.

For each size: generate the city, turn its drops into identity records as intake does, train
the hub's model once, predict once, then cluster at each threshold and score against the truth.
Truth is read here only, never by the pipeline. Writes ``benchmarks/results/threshold_sweep.json``
and ``.md`` (seed 11) or ``threshold_sweep_seed<N>.json`` and ``.md`` (any other seed).
Run: ``.venv/bin/python benchmarks/threshold_sweep.py --seed 12 [--persons 5000 50000 487000]``
(5,000 / 50,000 / 487,000 youth are about 10k / 100k / 1M identity records).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
THRESHOLDS = (0.7, 0.72, 0.74, 0.75, 0.76, 0.78, 0.8, 0.82, 0.84, 0.85, 0.9, 0.95)


def sweep(persons: int, seed: int, workdir: Path) -> dict:
    from bench_linkage import city_records

    from hub_assets.linkage.cluster import cluster_pairs
    from hub_assets.linkage.keys import carry_forward
    from hub_assets.linkage.predict import pairs_frame, predict_pairs
    from hub_assets.linkage.prepare import prepare_records
    from hub_assets.linkage.quality import quality_report
    from hub_assets.linkage.train import make_linker, train
    from hub_assets.synth import generate_city

    generate_city(persons=persons, seed=seed, out=workdir)
    records, truth = city_records(workdir)
    prepared = prepare_records(records)
    started = time.perf_counter()
    linker = make_linker(prepared)
    train(linker)
    pairs = pairs_frame(predict_pairs(linker))
    seconds = time.perf_counter() - started
    no_keys = pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String})
    rows = []
    for threshold in THRESHOLDS:
        keys, _ = carry_forward(no_keys, cluster_pairs(prepared, pairs, threshold))
        scores = quality_report(records, keys, pairs, truth=truth)["truth"]["cluster"]
        rows.append({"threshold": threshold, "precision": scores["precision"], "recall": scores["recall"]})
        print(f"{persons} youth, {records.height} records, p >= {threshold}: "
              f"P {scores['precision']:.4f} R {scores['recall']:.4f}", flush=True)
    return {"persons": persons, "records": records.height, "train_and_predict_seconds": seconds,
            "by_threshold": rows}


def render(results: dict) -> str:
    lines = ["# Cluster precision / recall by match threshold", "",
             f"Run {results['at']}, seed {results['seed']}. Command: "
             f"`.venv/bin/python benchmarks/threshold_sweep.py --seed {results['seed']}`", "",
             "| records | threshold | cluster P | cluster R |", "|---|---|---|---|"]
    for size in results["sizes"]:
        for row in size["by_threshold"]:
            lines.append(f"| {size['records']:,} | {row['threshold']} | {row['precision']:.4f} | "
                         f"{row['recall']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, nargs="*", default=[5_000, 50_000, 487_000])
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    results = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "seed": args.seed, "sizes": []}
    out = RESULTS / ("threshold_sweep.json" if args.seed == 11 else f"threshold_sweep_seed{args.seed}.json")
    if out.exists():  # sizes not run now keep their earlier figures
        results["sizes"] = [s for s in json.loads(out.read_text())["sizes"] if s["persons"] not in args.persons]
    for persons in args.persons:
        with tempfile.TemporaryDirectory() as tmp:
            size = sweep(persons, args.seed, Path(tmp))
        results["sizes"] = sorted([*results["sizes"], size], key=lambda s: s["persons"])
        RESULTS.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        out.with_suffix(".md").write_text(render(results))


if __name__ == "__main__":
    main()
