"""Benchmark: linkage time, memory and quality on synthetic cities of ~10k, 100k and 1M records.

For each size: generate a city (``hub_assets.synth.generate_city``), turn its drops into standard
identity records exactly as intake does (read, validate, standardise; latest drop per record),
then in a fresh subprocess run the hub's linkage stage by stage (prepare, train, block, predict,
cluster, keys), and in another fresh subprocess a plain Splink script with the same settings and
data (``plain_splink.py``); report time per stage, records/second, peak RSS, and cluster and
pairwise precision/recall against the city's truth. At 100k and 1M also: a 10k-record
incremental attach vs a full re-link (with the saved model: no training in either), and key
stability under both.

Truth is read here (and in tests) only — never by the hub's pipeline.
Writes ``benchmarks/results/linkage.json`` and ``linkage.md``.
Run: ``.venv/bin/python benchmarks/bench_linkage.py [--sizes 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
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
RECORDS_PER_PERSON = 2.05  # identity records per youth in the synthetic city (bench_synth)
BENCH_KEY = b"benchmark-key"


def city_records(city: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(current identity records, truth record_token -> person_id) from a city's drops."""
    from hub_assets.sources.declaration import load_agencies
    from hub_assets.sources.reader import SOURCE_ROW, read_drop
    from hub_assets.sources.schema import row_failures
    from hub_assets.sources.split import split_drop

    frames = []
    for source in load_agencies():
        for path in sorted((city / "landing" / source.name).glob("*")):
            raw = read_drop(source, path.name, path.read_bytes())
            failures = row_failures(source, raw.frame, SOURCE_ROW)
            accepted = raw.frame.filter(~pl.col(SOURCE_ROW).is_in(failures[SOURCE_ROW].unique().implode()))
            split = split_drop(source, accepted, BENCH_KEY, path.name, datetime.now(UTC))
            frames.append(split.records.with_columns(pl.lit(path.name).alias("drop_id")))
    records = (pl.concat(frames).sort("drop_id")  # file names carry their period: latest last
               .unique(["source", "record_id"], keep="last", maintain_order=True))
    truth = (pl.read_parquet(city / "truth" / "records.parquet").select("source", "record_id", "person_id")
             .join(records.select("source", "record_id", "record_token"), on=["source", "record_id"])
             .select("record_token", "person_id"))
    return records, truth


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hub_worker(records_path: Path, truth_path: Path, out: Path) -> dict:
    """The hub's linkage, stage by stage, in this (fresh) process."""
    from hub_assets.linkage.pipeline import full_relink
    from hub_assets.linkage.prepare import prepare_records
    from hub_assets.linkage.quality import quality_report
    from hub_assets.linkage.refusals import rule_evidence
    from hub_assets.linkage.train import make_linker, train

    timings, rss = {}, {}
    start = time.perf_counter()
    prepared = prepare_records(pl.read_parquet(records_path))  # the identity records are
    timings["prepare"] = time.perf_counter() - start             # re-read for the report
    rss["prepare"] = peak_rss_mb()
    prepared.write_parquet(out / "prepared.parquet")  # the plain script's input: same data
    start = time.perf_counter()
    linker = make_linker(prepared)
    evidence = rule_evidence(prepared)  # as `hub link` does: one anchor test, for training and clustering
    model = train(linker, evidence=evidence)
    timings["train"] = time.perf_counter() - start
    rss["train"] = peak_rss_mb()
    (out / "model.json").write_text(json.dumps(model))
    no_keys = pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String})
    result = full_relink(prepared, model, no_keys, linker=linker, evidence=evidence)
    timings |= result.timings
    rss["link"] = peak_rss_mb()
    total = sum(timings.values())
    result.keys.write_parquet(out / "keys.parquet")
    records = pl.read_parquet(records_path)
    quality = quality_report(records, result.keys, result.pairs, truth=pl.read_parquet(truth_path))
    return {"records": records.height, "seconds": timings, "total_seconds": total,
            "records_per_second": records.height / total, "peak_rss_mb": rss["link"],
            "peak_rss_mb_after": rss,
            "people": quality["n_persons"], "truth": quality["truth"],
            "uncertain_pairs": quality["uncertain_pairs"], "largest_cluster": quality["largest_cluster"],
            "link_rate": quality["link_rate"]}


def incremental_worker(records_path: Path, out: Path, n_new: int) -> dict:
    """Hold out the n_new latest records, link the rest, then attach them; then re-link all,
    once under each pending-review policy (review.py): ``hold`` (the default) keeps apart the
    people the attach queued for review, ``merge`` lets the model merge them unseen."""
    from hub_assets.linkage.cluster import RULES
    from hub_assets.linkage.incremental import attach_new_records
    from hub_assets.linkage.keys import key_stability
    from hub_assets.linkage.pipeline import full_relink
    from hub_assets.linkage.prepare import prepare_records
    from hub_assets.linkage.quality import truth_metrics
    from hub_assets.linkage.refusals import attach_rules
    from hub_assets.linkage.review import DECISION_SCHEMA, kept_apart

    records = pl.read_parquet(records_path)
    model = json.loads((out / "model.json").read_text())
    prepared = prepare_records(records)
    new_tokens = records.sort("drop_id").tail(n_new)["record_token"]
    before = prepared.filter(~pl.col("unique_id").is_in(new_tokens.implode()))
    no_keys = pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String})
    base_run = full_relink(before, model, no_keys)
    base = base_run.keys

    start = time.perf_counter()
    # As operations.link does: the refusal rules the base re-link decided (refusals.attach_rules).
    decided = {rule: rule in base_run.rules for rule in RULES}
    attached = attach_new_records(prepared, base, model, rules=attach_rules(prepared, decided))
    attach_seconds = time.perf_counter() - start
    after_attach = pl.concat([base, attached.keys])
    truth = out / "truth_tokens.parquet"
    truth = pl.read_parquet(truth) if truth.exists() else None

    relinks = {}
    for policy in ("hold", "merge"):
        kept = kept_apart(attached.review, pl.DataFrame(schema=DECISION_SCHEMA), after_attach, policy)
        start = time.perf_counter()
        relinked = full_relink(prepared, model, after_attach, kept_apart=kept)
        relinks[policy] = {
            "seconds": time.perf_counter() - start, "pairs_kept_apart": len(kept.pairs),
            "key_stability": key_stability(after_attach, relinked.keys),
            "merges": int((relinked.events["event"] == "merge").sum()),
            "splits": int((relinked.events["event"] == "split").sum()),
            "truth": truth_metrics(relinked.keys, relinked.pairs, truth)["cluster"] if truth is not None else None}
    held = relinks["hold"]
    return {"records": records.height, "new_records": n_new,
            "incremental_attach_seconds": attach_seconds, "full_relink_seconds": held["seconds"],
            "attach_over_full": attach_seconds / held["seconds"],
            "key_stability_incremental": key_stability(base, after_attach),
            "key_stability_full_relink": held["key_stability"],
            "queued_for_review": attached.review.height,
            "merges": held["merges"], "splits": held["splits"], "relink_by_policy": relinks,
            "after_attach_truth": (truth_metrics(after_attach, attached.pairs, truth)["cluster"]
                                   if truth is not None else None),
            "peak_rss_mb": peak_rss_mb()}


def _subprocess(*args: str) -> dict:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_size(target: int, seed: int, workdir: Path, incremental: bool, repeat: int = 1) -> dict:
    from hub_assets.synth import generate_city

    city = workdir / f"city_{target}"
    start = time.perf_counter()
    generate_city(persons=max(50, int(target / RECORDS_PER_PERSON)), seed=seed, out=city)
    records, truth = city_records(city)
    records.write_parquet(city / "records.parquet")
    truth.write_parquet(city / "truth_tokens.parquet")
    row = {"target_records": target, "records": records.height,
           "city_seconds": time.perf_counter() - start}
    me = str(Path(__file__).resolve())
    # On a shared machine one run of each can differ by 10-15% for reasons of its own; with
    # ``repeat`` > 1 the two alternate (hub, plain, hub, plain, ...) and the median run of each
    # is compared, every run's total kept beside it.
    hubs, plains = [], []
    for _ in range(repeat):
        hubs.append(_subprocess(me, "--worker", "hub", "--dir", str(city)))
        plains.append(_subprocess(str(ROOT / "benchmarks" / "plain_splink.py"), str(city / "prepared.parquet")))
    row["hub"], row["plain_splink"] = _median_run(hubs), _median_run(plains)
    if repeat > 1:
        row["runs"] = [{"hub_seconds": h["total_seconds"], "plain_seconds": p["total_seconds"],
                        "hub_peak_rss_mb": h["peak_rss_mb"]} for h, p in zip(hubs, plains)]
    hub_core = sum(v for k, v in row["hub"]["seconds"].items() if k != "prepare")
    row["hub_over_plain"] = row["hub"]["total_seconds"] / row["plain_splink"]["total_seconds"]
    row["hub_over_plain_excluding_prepare"] = hub_core / row["plain_splink"]["total_seconds"]
    if incremental:
        row["incremental"] = _subprocess(me, "--worker", "incremental", "--dir", str(city))
    print(json.dumps({k: v for k, v in row.items() if k != "plain_splink"}, default=str)[:2000],
          file=sys.stderr, flush=True)
    return row


def _median_run(runs: list[dict]) -> dict:
    """The run whose total time is the median (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r["total_seconds"])[(len(runs) - 1) // 2]


def _when(row: dict, results: dict) -> str:
    return (row.get("run_at") or results["at"])[:16].replace("T", " ")


def _commit() -> str | None:
    """The code's commit (with ``+`` when tracked files have changes), so each row says what ran."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty else "")


def render(results: dict) -> str:
    lines = ["# Linkage benchmark", "", f"Last run {results['at']} on {results['machine']}. Each size "
             "keeps the figures of the run that last measured it: its time (UTC) and the code's commit "
             "are in the first column.", "",
             "| run, commit | records | prepare | train | load | block + predict | cluster | keys | total s | "
             "rec/s | peak RSS MB | plain Splink s | ratio | cluster P | cluster R | pairwise P | pairwise R |",
             "|" + "---|" * 17]
    for row in results["sizes"]:
        h, s, t = row["hub"], dict(row["hub"]["seconds"]), row["hub"]["truth"]
        # runs before blocking moved inside predict timed the two separately
        s.setdefault("block_and_predict", s.get("block", 0) + s.get("predict", 0))
        commit = f", {row['commit'][:7]}" if row.get("commit") else ""
        lines.append(
            f"| {_when(row, results)}{commit} | {row.get('label') or format(row['records'], ',')} | "
            + " | ".join(f"{s.get(k, 0):.1f}"
                         for k in ("prepare", "train", "load", "block_and_predict", "cluster", "keys"))
            + f" | {h['total_seconds']:.1f} | {h['records_per_second']:,.0f} | {h['peak_rss_mb']:,.0f} | "
            f"{row['plain_splink']['total_seconds']:.1f} | {row['hub_over_plain']:.2f} | "
            f"{t['cluster']['precision']:.4f} | {t['cluster']['recall']:.4f} | "
            f"{t['pairwise']['precision']:.4f} | {t['pairwise']['recall']:.4f} |")
    for row in results["sizes"]:
        if row.get("runs"):
            lines += ["", f"## Alternating runs at {row['records']:,} records (run {_when(row, results)}): "
                      "the table shows the median of each", "",
                      "| run | hub s | plain Splink s | ratio | hub peak RSS MB |", "|---|---|---|---|---|"]
            lines += [f"| {i} | {r['hub_seconds']:.1f} | {r['plain_seconds']:.1f} | "
                      f"{r['hub_seconds'] / r['plain_seconds']:.2f} | {r['hub_peak_rss_mb']:,.0f} |"
                      for i, r in enumerate(row["runs"], 1)]
    for row in results["sizes"]:
        if "incremental" in row:
            inc = row["incremental"]
            lines += ["", f"## Incremental attach ({inc['new_records']:,} new of {inc['records']:,}; "
                      f"run {_when(row, results)})", "",
                      f"- attach {inc['incremental_attach_seconds']:.1f} s vs full re-link "
                      f"{inc['full_relink_seconds']:.1f} s ({inc['attach_over_full']:.1%})",
                      f"- key stability: incremental {inc['key_stability_incremental']:.4%}, "
                      f"full re-link {inc['key_stability_full_relink']:.4%}",
                      f"- queued for review: {inc['queued_for_review']}; re-link merges "
                      f"{inc['merges']}, splits {inc['splits']}"]
            for policy, run in (inc.get("relink_by_policy") or {}).items():
                recall = f", cluster P {run['truth']['precision']:.4f} R {run['truth']['recall']:.4f}" \
                    if run.get("truth") else ""
                lines.append(f"- re-link with pending review `{policy}`: key stability "
                             f"{run['key_stability']:.4%}, {run['pairs_kept_apart']} pairs kept apart, "
                             f"merges {run['merges']}, splits {run['splits']}{recall}")
    lines += ["", f"Note: {results['notes']}"] if results.get("notes") else []
    lines += ["", "Targets: cluster precision >= 0.995, recall >= 0.97; 1M records <= 1.2x plain "
              "Splink within 3 GB; incremental 10k < 10% of a full re-link; key stability "
              ">= 99.9% (full) and 100% (incremental).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--incremental-at", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the hub and of plain Splink per size, alternating; the medians are compared")
    parser.add_argument("--worker", choices=["hub", "incremental"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS / "linkage.json")
    args = parser.parse_args()
    if args.worker == "hub":
        print(json.dumps(hub_worker(args.dir / "records.parquet", args.dir / "truth_tokens.parquet", args.dir)))
        return
    if args.worker == "incremental":
        print(json.dumps(incremental_worker(args.dir / "records.parquet", args.dir, 10_000)))
        return
    import os
    import platform

    results = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average "
                          f"{os.getloadavg()[0]:.1f} at start (shared machine: times are noisy)",
               "sizes": []}
    # Sizes not run now keep their earlier figures (each carries its own run time), so the 1M
    # size, which takes a quiet machine, need not be re-run with every change to the small ones.
    if args.out.exists():
        earlier = json.loads(args.out.read_text()).get("sizes", [])
        results["sizes"] = [s for s in earlier if s.get("target_records") not in args.sizes]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            run = run_size(size, args.seed, Path(tmp), size in args.incremental_at, args.repeat)
            run["run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            run["commit"] = _commit()
            results["sizes"] = sorted([*results["sizes"], run], key=lambda s: s["target_records"])
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2, default=str))
            args.out.with_suffix(".md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
