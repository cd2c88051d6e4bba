"""``hub evaluate`` against the hub's own stores: draw the stratified sample of scored pairs a
reviewer labels, gather every label the hub holds, and write the threshold report.

The sample is a CSV in the identity zone (``LinkagePaths.labels``: ``<data dir>/linkage/labels/``, readable by its owner
only): each pair with both records' identifiers side by side (SSN to its last four digits) and
an empty ``is_match`` column for the reviewer. ``hub evaluate`` reads every labels file there,
any ``--labels`` file, and the decisions of ``hub review``; the report it writes holds only
counts and rates.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hub_assets.linkage import evaluate, store
from hub_assets.linkage.review import SHOWN_COLUMNS
from hub_assets.settings import HubPaths

SAMPLE_COLUMNS = ["band", "match_probability", "record_token_l", "record_token_r", "is_match"]


def write_sample(identity: duckdb.DuckDBPyConnection, out: Path, per_band: int, seed: int) -> pl.DataFrame:
    """Draw the sample and write it for review; never over a file that may hold labels."""
    if out.exists():
        raise FileExistsError(f"{out} exists (it may hold a reviewer's labels); choose another --out or seed")
    sample = evaluate.stratified_sample(store.read(identity, "linkage_pairs"), per_band, seed)
    shown = ", ".join(f"{c}::varchar as {c}" for c in SHOWN_COLUMNS)
    people = identity.sql(f"select record_token, {shown}, right(ssn::varchar, 4) as ssn_last4 "
                          "from current_records").pl()
    sheet = sample.rename({"unique_id_l": "record_token_l", "unique_id_r": "record_token_r"}).with_columns(
        pl.lit(None, pl.String).alias("is_match"))
    for side in ("l", "r"):
        sheet = sheet.join(people.rename(lambda c, s=side: f"{c}_{s}"), on=f"record_token_{side}", how="left")
    sheet = sheet.select(*SAMPLE_COLUMNS, pl.exclude(SAMPLE_COLUMNS))
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # identifiers: owner only
    with os.fdopen(descriptor, "wb") as handle:
        sheet.write_csv(handle)
    return sheet


@dataclass
class Labels:
    pairs: pl.DataFrame  # unique_id_l, unique_id_r, is_match
    records: pl.DataFrame | None  # record_token, person_id
    sources: dict[str, int]  # where each label came from -> labelled pairs


def gather_labels(identity: duckdb.DuckDBPyConnection, files: list[Path]) -> Labels:
    """Review decisions plus every labels file; the latest source wins for a pair given twice."""
    scored = store.read(identity, "linkage_pairs")
    from_review = evaluate.pair_labels_from_decisions(
        store.read(identity, "review_queue"), store.read(identity, "review_decisions"),
        store.read(identity, "person_keys"), scored)
    parts, sources, records = [from_review], {"hub review decisions": from_review.height}, []
    for path in files:
        pairs, labelled_records = evaluate.read_labels(path, identity)
        if labelled_records is not None:
            records.append(labelled_records)
            pairs = evaluate.pair_labels_from_records(labelled_records, scored)
        parts.append(pairs)
        sources[str(path)] = pairs.height
    joined = pl.concat(parts).unique(["unique_id_l", "unique_id_r"], keep="last", maintain_order=True)
    return Labels(joined, pl.concat(records).unique("record_token") if records else None, sources)


def label_files(folder: Path) -> list[Path]:
    """Every labels file in a folder (the reviewed samples), in name order."""
    return sorted(folder.glob("*.csv")) + sorted(folder.glob("*.parquet")) if folder.exists() else []


def evaluate_hub(identity: duckdb.DuckDBPyConnection, paths: HubPaths, files: list[Path]) -> dict:
    """Estimates at every candidate threshold from every label the hub holds; writes
    reports/linkage/threshold.{md,json} and returns what it wrote."""
    labels = gather_labels(identity, files)
    pairs = store.read(identity, "linkage_pairs")
    table = evaluate.estimate(pairs, labels.pairs, record_labels=labels.records)
    bands = evaluate.band_table(pairs, labels.pairs)
    outside = evaluate.labels_outside(pairs, labels.pairs)
    lines = ["# Linkage threshold from labelled pairs", ""]
    lines += [f"- {source}: {n:,} labelled pairs" for source, n in labels.sources.items()]
    lines += [f"- labelled pairs not among the scored pairs (in no band): {outside:,}", "",
              evaluate.render_markdown(table, bands)]
    markdown = "\n".join(lines)
    report = paths.reports / "linkage"
    report.mkdir(parents=True, exist_ok=True)
    (report / "threshold.md").write_text(markdown)
    (report / "threshold.json").write_text(json.dumps(
        {"estimates": table.fill_nan(None).to_dicts(), "bands": bands.to_dicts(), "sources": labels.sources,
         "labels_outside_scored_pairs": outside}, indent=2))
    return {"markdown": markdown, "table": table, "path": report / "threshold.md"}
