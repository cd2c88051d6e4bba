"""The linkage steps as the hub runs them against its stores (no Dagster here).

``retrain`` writes the model; ``link`` forms people (full re-link or incremental attach) in
the identity zone and writes the quality report. The Dagster assets in ``hub_assets.defs.linkage``
are thin wrappers around these; the spine built from the keys is ``hub_assets.spine``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from hub_assets.linkage import evaluate, evaluate_store, refusals, review, store
from hub_assets.linkage.blocking import measure_blocking, write_blocking_counts
from hub_assets.linkage.charts import write_model_charts
from hub_assets.linkage.incremental import attach_new_records
from hub_assets.linkage.pipeline import full_relink, train_model
from hub_assets.linkage.prepare import prepare_from_identity
from hub_assets.linkage.quality import quality_report, write_report
from hub_assets.linkage.starter import STARTER_MODEL
from hub_assets.linkage.train import load_model, make_linker, save_model
from hub_assets.review_policy import pending_review_at_relink
from hub_assets.settings import HubPaths

log = logging.getLogger(__name__)

Mode = Literal["auto", "full", "incremental"]
BLOCKING_SAMPLE_RECORDS = 200_000  # blocking counts are estimated on at most this many records


@dataclass(frozen=True)
class LinkagePaths:
    model: Path
    reports: Path
    truth: Path | None = None  # a synthetic city's truth/records.parquet (see ground_truth)

    @classmethod
    def of(cls, paths: HubPaths) -> LinkagePaths:
        return cls(model=paths.root / "linkage" / "model.json", reports=paths.reports / "linkage",
                   truth=paths.truth / "records.parquet")

    @property
    def labels(self) -> Path:
        """Reviewed samples of scored pairs (``hub evaluate sample``): identity zone."""
        return self.model.parent / "labels"

    @property
    def quality(self) -> Path:
        return self.reports / "quality.md"

    @property
    def quality_json(self) -> Path:
        return self.reports / "quality.json"

    @property
    def blocking_counts(self) -> Path:
        return self.reports / "blocking_counts.json"


def retrain(identity: duckdb.DuckDBPyConnection, where: LinkagePaths) -> dict:
    """Train on every current record; save the model, its charts and the blocking counts."""
    prepared = prepare_from_identity(identity)
    if prepared.height < 2:
        raise ValueError("identity.current_records has fewer than 2 records: nothing to train on")
    try:
        model, linker = train_model(prepared)
        source = "trained on this hub's records"
    except ValueError as exc:  # too little evidence: Splink's prior or EM cannot be estimated
        log.warning("linkage model could not be trained on %s records (%s); using the starter model",
                    prepared.height, exc)
        model = load_model(STARTER_MODEL)
        linker = make_linker(prepared, model)
        source = f"starter model (training on {prepared.height} records failed: {exc})"
    save_model(model, where.model)
    refused = refusal_summary(identity)
    charts = write_model_charts(linker, where.reports, *threshold_inputs(identity, where), refusals=refused)
    sample = min(1.0, BLOCKING_SAMPLE_RECORDS / prepared.height)
    records = linker._input_tables_dict[next(iter(linker._input_tables_dict))]
    write_blocking_counts(measure_blocking(records, sample=sample), where.blocking_counts)
    return {"model": where.model, "charts": charts, "records": prepared.height,
            "blocking_counts": where.blocking_counts, "refusals": refused,
            "prior": model.get("probability_two_random_records_match"), "source": source}


def threshold_inputs(identity: duckdb.DuckDBPyConnection, where: LinkagePaths
                     ) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """The last linkage's scored pairs and, when any pair is labelled, the estimates at each
    threshold (evaluate.py), for the threshold chart; (None, None) before the first linkage."""
    if not store.table_exists(identity, "linkage_pairs"):
        return None, None
    pairs = store.read(identity, "linkage_pairs")
    labels = evaluate_store.gather_labels(identity, evaluate_store.label_files(where.labels))
    if labels.pairs.height == 0:
        return pairs, None
    return pairs, evaluate.estimate(pairs, labels.pairs, record_labels=labels.records)


def choose_mode(mode: Mode, identity: duckdb.DuckDBPyConnection, where: LinkagePaths) -> str:
    if mode != "auto":
        return mode
    has_keys = store.table_exists(identity, "person_keys") and identity.sql(
        "select count(*) from person_keys").fetchall()[0][0] > 0
    return "incremental" if has_keys and where.model.exists() else "full"


def link(identity: duckdb.DuckDBPyConnection, where: LinkagePaths, mode: Mode = "auto",
         at: datetime | None = None) -> dict:
    """Form people for every current record and report quality. Returns a summary."""
    at = at or datetime.now(UTC)
    if not where.model.exists():
        retrain(identity, where)  # first run only: later retraining is explicit and scheduled
    chosen = choose_mode(mode, identity, where)
    model = load_model(where.model)
    prepared = prepare_from_identity(identity)
    previous = store.read(identity, "person_keys")
    summary = {"mode": chosen, "records": prepared.height}
    if chosen == "full":
        kept = review.kept_apart(store.read(identity, "review_queue"),
                                 store.read(identity, "review_decisions"), previous,
                                 pending_review_at_relink())
        result = full_relink(prepared, model, previous, at=at, kept_apart=kept)
        store.replace(identity, "linkage_pairs", result.pairs)
        store.replace(identity, "clusters", result.clusters)
        store.replace(identity, "person_keys", result.keys)
        store.append(identity, "key_events", result.events)
        store.replace(identity, "refusal_rules", refusals.evidence_frame(result.evidence, at))
        store.replace(identity, "refused_links", _refused_rows(result.refused, "full", at))
        summary |= {"merges": int((result.events["event"] == "merge").sum()),
                    "splits": int((result.events["event"] == "split").sum()),
                    "pairs_kept_apart": len(kept.pairs),
                    # links each refusal rule skipped, and the anchor test behind each rule
                    "refusals": result.refusals, "refusal_rules": result.evidence}
    else:
        decided = {rule: bool(applied) for rule, applied in
                   store.read(identity, "refusal_rules").select("rule", "applied").iter_rows()}
        attached = attach_new_records(prepared, previous, model, at=at,
                                      rules=refusals.attach_rules(prepared, decided))
        current = prepared.select(pl.col("unique_id").alias("record_token"))
        # Keys of records no longer current go; the new records' keys are added. Every other
        # row stays as it is: rewriting all 435k rows (1M-row city) cost 7 s of index upkeep.
        gone = previous.join(current, on="record_token", how="anti")["record_token"]
        store.delete_tokens(identity, "person_keys", gone)
        store.append(identity, "person_keys", attached.keys)
        store.append(identity, "linkage_pairs", attached.pairs)
        store.append(identity, "review_queue", attached.review)
        store.append(identity, "refused_links", _refused_rows(attached.refused, "attach", at))
        summary |= {"attached": attached.keys.height, "queued_for_review": attached.review.height,
                    "refusals": _per_rule(attached.refused, attached.rules)}
    summary["awaiting_review"] = review.pending(store.read(identity, "review_queue"),
                                                store.read(identity, "review_decisions")).height
    summary["quality"] = report_quality(identity, where)
    return summary


def _refused_rows(refused: pl.DataFrame, run: str, at: datetime) -> pl.DataFrame:
    return refused.with_columns(pl.lit(run).alias("run"), pl.lit(at, dtype=pl.Datetime("us", "UTC")).alias("at"))


def _per_rule(refused: pl.DataFrame, rules: frozenset[str]) -> dict[str, int]:
    counts = dict(refused.group_by("rule").len().iter_rows())
    return {rule: int(counts.get(rule, 0)) for rule in sorted(rules | set(counts))}


def refusal_summary(identity: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """Per refusal rule: its mode, the anchor test and whether the last full re-link applied it,
    and the links it refused there and in the attaches since; None before the first full
    re-link. For the model's metadata (charts.refusals_spec)."""
    if not store.table_exists(identity, "refusal_rules"):
        return None
    rules = store.read(identity, "refusal_rules").drop("at")
    refused = store.read(identity, "refused_links")
    counts = (refused.group_by("rule").agg((pl.col("run") == "full").sum().alias("refused_full"),
                                           (pl.col("run") == "attach").sum().alias("refused_attach"))
              if refused.height else pl.DataFrame(schema={"rule": pl.String, "refused_full": pl.UInt32,
                                                          "refused_attach": pl.UInt32}))
    every = pl.concat([rules.select("rule"), counts.select("rule")]).unique(maintain_order=True)
    return (every.join(rules, on="rule", how="left").join(counts, on="rule", how="left")
            .with_columns(pl.col("refused_full", "refused_attach").fill_null(0).cast(pl.Int64)))


def report_quality(identity: duckdb.DuckDBPyConnection, where: LinkagePaths) -> dict:
    records = identity.sql("select record_token, source, dob, sex, race_ethnicity "
                           "from current_records").pl()
    keys = store.read(identity, "person_keys")
    pairs = store.read(identity, "linkage_pairs")
    truth = ground_truth(identity, where.truth)
    # Without truth, the group error rates come from the reviewed sample and review decisions.
    labels = None if truth is not None else evaluate_store.gather_labels(
        identity, evaluate_store.label_files(where.labels)).pairs
    report = quality_report(records, keys, pairs, as_of=date.today(), truth=truth, labels=labels)
    write_report(report, where.quality)
    where.quality_json.write_text(json.dumps(report, indent=2, default=str))
    return report


def ground_truth(identity: duckdb.DuckDBPyConnection, path: Path | None) -> pl.DataFrame | None:
    """record_token -> person_id, from a synthetic city's truth when the data directory holds one
    (``make run`` copies the fixture city's). Read only here, once people are formed, so that
    the quality report can give precision and recall: linkage itself never sees it."""
    if path is None or not path.exists():
        return None
    truth = pl.read_parquet(path, columns=["source", "record_id", "person_id"])
    tokens = identity.sql("select record_token, source, record_id from current_records").pl()
    return tokens.join(truth, on=["source", "record_id"]).select("record_token", "person_id")
