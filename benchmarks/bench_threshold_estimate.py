"""How well ``hub evaluate`` estimates precision and recall from a few hundred reviewed pairs,
on a linked hub whose data directory holds the synthetic city's truth (``make run`` copies the
fixture city's).

The reviewer is played by the truth: ``hub evaluate sample`` draws the stratified sheet, every
pair is answered from truth/records.parquet, and ``hub evaluate --labels SHEET`` estimates.
The true figures come from ``hub evaluate --labels truth/records.parquet`` (every record
labelled: exact precision over the scored pairs, and recall over every true pair). Then the
draw is repeated for ``--draws`` seeds in-process (evaluate.py, the same code) to measure how
often the 95% intervals cover the truth.

Writes ``benchmarks/results/threshold_estimate_<name>.md`` and ``.json``.
Run: ``make run`` then
``.venv/bin/python benchmarks/bench_threshold_estimate.py --data-dir data --name fixture_city
[--per-band 50] [--draws 200]``
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
HUB = str(Path(sys.executable).with_name("hub"))


def hub(data_dir: Path, *args: str) -> str:
    done = subprocess.run([HUB, *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                          check=True)
    return done.stdout


def estimates(data_dir: Path) -> list[dict]:
    return json.loads((data_dir / "reports" / "linkage" / "threshold.json").read_text())["estimates"]


def answer_from_truth(sheet: Path, person: dict[str, str]) -> Path:
    frame = pl.read_csv(sheet, infer_schema=False)
    answers = ["yes" if person[a] == person[b] else "no"
               for a, b in frame.select("record_token_l", "record_token_r").iter_rows()]
    answered = sheet.with_name(sheet.stem + "-answered.csv")
    frame.with_columns(pl.Series("is_match", answers)).write_csv(answered)
    return answered


def main() -> None:
    from hub_assets.linkage import evaluate
    from hub_assets.linkage.operations import ground_truth

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--per-band", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--name", default="fixture_city", help="Names the city in the results file.")
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    started = datetime.now(UTC)

    with duckdb.connect(str(data_dir / "identity.duckdb"), read_only=True) as con:
        truth = ground_truth(con, data_dir / "truth" / "records.parquet")
        pairs = con.sql("select * from linkage_pairs").pl()
    person = dict(truth.iter_rows())

    with tempfile.TemporaryDirectory() as work:
        sheet = Path(work) / f"sample-{args.seed}.csv"
        hub(data_dir, "evaluate", "sample", "--per-band", str(args.per_band), "--seed", str(args.seed),
            "--out", str(sheet))
        answered = answer_from_truth(sheet, person)
        labelled_rows = pl.read_csv(answered).height
        hub(data_dir, "evaluate", "--labels", str(answered))
        from_sample = estimates(data_dir)
        truth_file = Path(work) / "truth.parquet"
        truth.write_parquet(truth_file)
        hub(data_dir, "evaluate", "--labels", str(truth_file))
        exact = estimates(data_dir)

    truth_pairs = evaluate.pair_labels_from_records(truth, pairs)
    coverage = {row["threshold"]: {"precision": 0, "recall_scored": 0, "recall_all": 0} for row in exact}
    for seed in range(args.draws):
        labels = evaluate.stratified_sample(pairs, args.per_band, seed).join(
            truth_pairs, on=["unique_id_l", "unique_id_r"])
        for row in evaluate.estimate(pairs, labels).iter_rows(named=True):
            true = next(r for r in exact if r["threshold"] == row["threshold"])
            hits = coverage[row["threshold"]]
            hits["precision"] += row["precision_low"] <= true["precision"] <= row["precision_high"]
            hits["recall_scored"] += row["recall_low"] <= true["recall"] <= row["recall_high"]
            hits["recall_all"] += row["recall_low"] <= true["recall_labelled_records"] <= row["recall_high"]

    def ci(row: dict, name: str) -> str:
        if row.get(name) is None or (isinstance(row[name], float) and math.isnan(row[name])):
            return "n/a"
        return f"{row[name]:.4f} ({row[name + '_low']:.4f}-{row[name + '_high']:.4f})"

    lines = [
        f"# Threshold estimated from reviewed pairs vs the truth ({args.name.replace('_', ' ')})", "",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {pairs.height:,} scored pairs of the hub in the data "
        f"directory; {len(truth):,} records with truth. The reviewer is played by the truth.", "",
        "Commands:", "",
        f"    hub evaluate sample --per-band {args.per_band} --seed {args.seed} --out SHEET",
        "    (SHEET's is_match answered from truth/records.parquet)",
        "    hub evaluate --labels SHEET-answered",
        "    hub evaluate --labels truth.parquet   # every record labelled: the true figures", "",
        f"## One review of {labelled_rows} pairs (seed {args.seed}) next to the truth", "",
        "| threshold | links | labelled | precision, estimated (95% CI) | precision, true | "
        "recall among scored pairs, estimated (95% CI) | recall among scored pairs, true | "
        "recall over every true pair, true |",
        "|---|---|---|---|---|---|---|---|"]
    for est, true in zip(from_sample, exact):
        lines.append(f"| {est['threshold']:g} | {est['links']:,} | {est['labelled']} | {ci(est, 'precision')} | "
                     f"{true['precision']:.4f} | {ci(est, 'recall')} | {true['recall']:.4f} | "
                     f"{true['recall_labelled_records']:.4f} |")
    lines += ["", f"## Coverage of the 95% intervals over {args.draws} draws of {args.per_band} pairs per band", "",
              "| threshold | precision | recall among scored pairs | recall over every true pair |",
              "|---|---|---|---|"]
    for threshold, hits in coverage.items():
        lines.append(f"| {threshold:g} | {hits['precision'] / args.draws:.1%} | "
                     f"{hits['recall_scored'] / args.draws:.1%} | {hits['recall_all'] / args.draws:.1%} |")
    lines += ["", "Recall estimated from a sample of pairs is recall among the scored pairs "
              "(p >= 0.5): true pairs never scored are invisible to it, so it overstates recall over "
              "every true pair; labelled records (`--labels` with person ids) measure that.", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"threshold_estimate_{args.name}.md").write_text("\n".join(lines))
    (RESULTS / f"threshold_estimate_{args.name}.json").write_text(json.dumps(
        {"run_at": started.isoformat(), "per_band": args.per_band, "seed": args.seed, "draws": args.draws,
         "from_sample": from_sample, "exact": exact, "coverage": {str(k): v for k, v in coverage.items()}},
        indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
