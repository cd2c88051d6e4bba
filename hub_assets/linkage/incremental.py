"""Attach new records to existing people between full re-links, without moving anyone else.

New records are those whose record_token has no person key yet. They are scored against the
records that have one (``predict_between``) and among themselves (``predict_within``), with
the saved model and term frequencies from all current records. An attach must cost a small
fraction of a full re-link, so only the existing records that share a blocking key with some
new record (``candidate_records``) enter Splink, and the term-frequency tables are counted in
polars over all records and registered, not rebuilt by Splink. New records linked to each
other at the match threshold form groups (clustered as in cluster.py); a link from a group to
an existing person counts only if the group could be that person by cluster.py's refusal rules
(so an attach never builds a person the next full re-link would split). The rules are those a
full re-link applies (refusals.py: the deployment's policy, with the last full re-link's
``auto`` decisions), and the links they refuse are returned like a re-link's. Then each group:

- matches no existing person  -> becomes a new person (new random key);
- matches exactly one person  -> joins that person (takes its key);
- matches two or more people  -> joins the person with the strongest link (so it is counted
  once, as the most likely person), AND is queued in ``identity.review_queue`` with every
  candidate key: attaching it must not silently merge those people. A reviewer decides
  (review.py); until then the next full re-link keeps them apart too, unless the board's
  policy in governance.yaml lets it merge them.

Existing records never change key here, so key stability under incremental attach is 100% by
construction (and measured in the benchmark). Records whose identifiers changed in a
re-delivered drop keep their key until the next full re-link re-evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import polars as pl
from splink import Linker

from hub_assets.linkage.blocking import BLOCKING_KEYS
from hub_assets.linkage.cluster import (REFUSED_SCHEMA, Facts, cluster_people, merge_facts, record_facts,
                                       refusing_rule)
from hub_assets.linkage.keys import fresh_keys
from hub_assets.linkage.predict import PAIR_COLUMNS, PAIR_FLOOR
from hub_assets.linkage.refusals import attach_rules
from hub_assets.linkage.settings import MATCH_THRESHOLD
from hub_assets.linkage.train import make_linker

TF_COLUMNS = ("first_name", "last_name", "address")
NEW_TABLE = "hub_new_records"
REVIEW_SCHEMA = {"record_token": pl.String, "attached_key": pl.String,
                 "candidate_keys": pl.List(pl.String), "best_probability": pl.Float64,
                 "reason": pl.String, "queued_at": pl.Datetime("us", "UTC")}


@dataclass
class Attachment:
    keys: pl.DataFrame  # record_token, person_key for the new records only
    review: pl.DataFrame  # REVIEW_SCHEMA
    pairs: pl.DataFrame  # scored pairs involving new records (unique_id_l/r, weight, prob)
    # Links a refusal rule skipped (cluster.REFUSED_SCHEMA): between new records, and from a new
    # record to the strongest-linked record of an existing person it cannot be.
    refused: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REFUSED_SCHEMA))
    rules: frozenset[str] = frozenset()  # the refusal rules applied


def attach_new_records(prepared: pl.DataFrame, person_keys: pl.DataFrame, model: dict, *,
                       threshold: float = MATCH_THRESHOLD, at: datetime | None = None,
                       rules: frozenset[str] | None = None) -> Attachment:
    """``prepared``: every current record (prepare.py); ``person_keys``: the existing mapping.
    ``rules``: the refusal rules to apply, as the last full re-link applied them; by default the
    deployment's policy tested on ``prepared`` (refusals.attach_rules)."""
    at = at or datetime.now(timezone.utc)
    rules = attach_rules(prepared) if rules is None else rules
    # Semi and anti joins, not is_in filters: a hash join over a million tokens runs on every
    # core, and is_in took 1.6 s of a 6 s attach at 1M records.
    ids = prepared.select(pl.col("unique_id").alias("record_token"))
    known = person_keys.join(ids, on="record_token", how="semi", maintain_order="left")
    known_ids = known.select(pl.col("record_token").alias("unique_id"))
    new = prepared.join(known_ids, on="unique_id", how="anti", maintain_order="left")
    if new.height == 0:
        return Attachment(known.clear(), pl.DataFrame(schema=REVIEW_SCHEMA), _no_pairs(), rules=rules)

    existing = prepared.join(known_ids, on="unique_id", how="semi", maintain_order="left")
    candidates = candidate_records(existing, new)
    linker = make_linker(new, model, table=NEW_TABLE, validate=False)
    pairs = _score_new(linker, prepared, candidates, new)
    within = cluster_people(new, pairs.filter(
        pl.col("unique_id_l").is_in(new["unique_id"].implode())
        & pl.col("unique_id_r").is_in(new["unique_id"].implode())), threshold, rules=rules)
    groups = within.clusters
    to_existing = _links_to_existing(pairs, new["unique_id"], known, threshold)
    to_existing, refused = _compatible_only(groups, to_existing, new, prepared, known, rules)
    attachment = _decide(groups, to_existing, known, threshold, at, pairs)
    attachment.refused = pl.concat([within.refused, refused])
    attachment.rules = rules
    return attachment


def _compatible_only(groups: pl.DataFrame, to_existing: pl.DataFrame, new: pl.DataFrame,
                     prepared: pl.DataFrame, known: pl.DataFrame, rules: frozenset[str]
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop links from a new group to a person it cannot be (cluster.py's refusal rules, those
    in ``rules``), so an attach never makes a person the next full re-link would split. Returns
    the links kept and the links refused (REFUSED_SCHEMA)."""
    if to_existing.height == 0:
        return to_existing, pl.DataFrame(schema=REFUSED_SCHEMA)
    group_of = dict(groups.iter_rows())
    group_facts: dict[str, Facts] = {}
    for token, facts in zip(new["unique_id"].to_list(), record_facts(new)):
        group = group_of[token]
        group_facts[group] = merge_facts(group_facts[group], facts) if group in group_facts else facts
    persons = (known.join(to_existing.select("person_key").unique(), on="person_key")
               .join(prepared, left_on="record_token", right_on="unique_id"))
    person_facts: dict[str, Facts] = {}
    for key, facts in zip(persons["person_key"].to_list(), record_facts(persons)):
        person_facts[key] = merge_facts(person_facts[key], facts) if key in person_facts else facts
    refusing = pl.Series("rule", [refusing_rule(group_facts[group_of[token]], person_facts[key], rules=rules)
                                  for token, key in to_existing.select("record_token", "person_key").iter_rows()],
                         dtype=pl.String)
    judged = to_existing.with_columns(refusing)
    refused = judged.filter(pl.col("rule").is_not_null()).select(
        pl.col("record_token").alias("unique_id_l"), pl.col("other").alias("unique_id_r"),
        "match_probability", "rule")
    return judged.filter(pl.col("rule").is_null()).drop("rule"), refused


def candidate_records(existing: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The existing records that share at least one prediction blocking key with a new record
    (``blocking.BLOCKING_KEYS``): no other existing record can be scored against them."""
    frames = []
    for existing_keys, new_keys in BLOCKING_KEYS:
        names = [f"_key{i}" for i in range(len(existing_keys))]
        left = existing.with_columns([e.alias(n) for e, n in zip(existing_keys, names)])
        right = new.select([e.alias(n) for e, n in zip(new_keys, names)]).drop_nulls().unique()
        frames.append(left.join(right, on=names, how="semi").select(existing.columns))
    return pl.concat(frames).unique("unique_id", maintain_order=True)


def term_frequencies(prepared: pl.DataFrame, column: str) -> pl.DataFrame:
    """Splink's term-frequency lookup (value, share of non-null values), over every record."""
    values = prepared.select(column).drop_nulls()
    return (values.group_by(column).len()
            .select(column, (pl.col("len") / max(values.height, 1)).alias(f"tf_{column}")))


def _score_new(linker: Linker, prepared: pl.DataFrame, existing: pl.DataFrame,
               new: pl.DataFrame) -> pl.DataFrame:
    db_api = linker._db_api
    con = db_api.duckdb_con
    for column in TF_COLUMNS:
        tf = _register(db_api, f"hub_tf_{column}", term_frequencies(prepared, column))
        linker.table_management.register_term_frequency_lookup(tf, column)
    new_sdf = db_api.register(NEW_TABLE)
    frames = [linker.inference.predict_within(new_sdf, threshold_match_probability=PAIR_FLOOR,
                                              warning_mode="never")]
    if existing.height:
        old_sdf = _register(db_api, "hub_known_records", existing)
        frames.append(linker.inference.predict_between(
            old_sdf, new_sdf, threshold_match_probability=PAIR_FLOOR, warning_mode="never"))
    cols = ", ".join(PAIR_COLUMNS)
    return pl.concat([con.sql(f"select {cols} from {f.physical_name}").pl() for f in frames])


def _register(db_api, table: str, frame: pl.DataFrame):
    con = db_api.duckdb_con
    con.register("_hub_frame", frame.to_arrow())
    con.execute(f"create or replace table {table} as select * from _hub_frame")
    con.unregister("_hub_frame")
    return db_api.register(table)


def _links_to_existing(pairs: pl.DataFrame, new_ids: pl.Series, known: pl.DataFrame,
                       threshold: float) -> pl.DataFrame:
    """new record -> existing person key, with the strongest probability per (record, key)."""
    links = pairs.filter(pl.col("match_probability") >= threshold)
    new_set = new_ids.implode()
    oriented = pl.concat([
        links.filter(pl.col("unique_id_r").is_in(new_set) & ~pl.col("unique_id_l").is_in(new_set))
        .select(pl.col("unique_id_r").alias("record_token"), pl.col("unique_id_l").alias("other"),
                "match_probability"),
        links.filter(pl.col("unique_id_l").is_in(new_set) & ~pl.col("unique_id_r").is_in(new_set))
        .select(pl.col("unique_id_l").alias("record_token"), pl.col("unique_id_r").alias("other"),
                "match_probability"),
    ])
    return (oriented.join(known, left_on="other", right_on="record_token")
            .group_by("record_token", "person_key")
            .agg(pl.col("other").sort_by("match_probability").last(), pl.col("match_probability").max()))


def _decide(groups: pl.DataFrame, to_existing: pl.DataFrame, known: pl.DataFrame,
            threshold: float, at: datetime, pairs: pl.DataFrame) -> Attachment:
    candidates = (groups.join(to_existing, on="record_token", how="left")
                  .group_by("cluster_id", "person_key").agg(pl.col("match_probability").max())
                  .filter(pl.col("person_key").is_not_null())
                  .sort(["cluster_id", "match_probability", "person_key"],
                        descending=[False, True, False]))
    per_group = candidates.group_by("cluster_id", maintain_order=True).agg(
        pl.col("person_key").first().alias("best_key"),
        pl.col("person_key").alias("candidate_keys"),
        pl.col("match_probability").first().alias("best_probability"))
    group_ids = groups["cluster_id"].unique().sort().to_list()
    group_keys = dict(zip(group_ids, fresh_keys(len(group_ids), known["person_key"])))
    for cluster_id, best_key, *_ in per_group.iter_rows():
        group_keys[cluster_id] = best_key
    keys = groups.with_columns(
        pl.col("cluster_id").replace_strict(group_keys, return_dtype=pl.String).alias("person_key"))
    ambiguous = per_group.filter(pl.col("candidate_keys").list.len() > 1)
    review = (groups.join(ambiguous, on="cluster_id")
              .select("record_token", pl.col("best_key").alias("attached_key"), "candidate_keys",
                      "best_probability",
                      pl.lit("matches more than one existing person").alias("reason"),
                      pl.lit(at, dtype=pl.Datetime("us", "UTC")).alias("queued_at")))
    return Attachment(keys.select("record_token", "person_key"), review, pairs)


def _no_pairs() -> pl.DataFrame:
    return pl.DataFrame(schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                                "match_weight": pl.Float64, "match_probability": pl.Float64})
