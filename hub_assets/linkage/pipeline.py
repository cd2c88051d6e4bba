"""The two ways people are (re)formed, end to end on prepared records: a full re-link and a
first-time training run. Incremental attach lives in incremental.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from hub_assets.linkage.cluster import ALL_RULES, REFUSED_SCHEMA, KeptApart, cluster_people
from hub_assets.linkage.keys import carry_forward
from hub_assets.linkage.predict import pairs_frame, predict_pairs
from hub_assets.linkage.refusals import RuleEvidence, applied_rules, rule_evidence
from hub_assets.linkage.settings import MATCH_THRESHOLD
from hub_assets.linkage.train import make_linker, train


@dataclass
class Relink:
    keys: pl.DataFrame  # record_token, person_key
    events: pl.DataFrame  # key events (keys.KEY_EVENT_SCHEMA)
    pairs: pl.DataFrame  # scored pairs >= predict.PAIR_FLOOR
    clusters: pl.DataFrame  # record_token, cluster_id
    timings: dict[str, float] = field(default_factory=dict)
    # Links a refusal rule skipped (cluster.REFUSED_SCHEMA) and the rules that were applied.
    refused: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REFUSED_SCHEMA))
    rules: frozenset[str] = ALL_RULES
    evidence: dict[str, dict] = field(default_factory=dict)  # rule -> refusals.RuleEvidence.as_dict()

    @property
    def refusals(self) -> dict[str, int]:
        """Links refused per applied rule (0 where a rule refused none), for the model's metadata."""
        counts = dict(self.refused.group_by("rule").len().iter_rows())
        return {rule: int(counts.get(rule, 0)) for rule in sorted(self.rules | set(counts))}


def train_model(prepared: pl.DataFrame, **train_options) -> tuple[dict, object]:
    """Train a fresh model on these records; returns (model JSON dict, trained linker)."""
    linker = make_linker(prepared)
    return train(linker, **train_options), linker


def full_relink(prepared: pl.DataFrame, model: dict, previous_keys: pl.DataFrame, *,
                threshold: float = MATCH_THRESHOLD, at: datetime | None = None,
                linker=None, kept_apart: KeptApart | None = None,
                rules: frozenset[str] | None = None, policy: dict[str, str] | None = None,
                evidence: dict[str, RuleEvidence] | None = None) -> Relink:
    """Score, cluster and carry keys forward over every current record, keeping apart the
    people ``kept_apart`` names (review.py). ``rules``: the refusal rules to apply; by default
    ``policy`` (rule -> on/off/auto; default governance.yaml) decides, tested on these records
    (refusals.py) unless ``evidence`` holds that test already."""
    timings = {}
    start = time.perf_counter()
    linker = linker or make_linker(prepared, model)
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    # Blocking runs inside predict (one DuckDB pipeline); materialising the blocked pairs
    # first cost ~10 s more at 1M records for nothing.
    scored = predict_pairs(linker)
    timings["block_and_predict"] = time.perf_counter() - start
    start = time.perf_counter()
    pairs = pairs_frame(scored)
    # The blocked pairs and predictions now live in polars: free DuckDB's copy before the
    # clustering (Python) needs its memory. At 1M records this is the peak.
    linker.table_management.delete_tables_created_by_splink_from_db()
    tested = {}
    if rules is None:
        tested = evidence if evidence is not None else rule_evidence(prepared, policy)
        rules = applied_rules(tested)
    clustering = cluster_people(prepared, pairs, threshold, kept_apart, rules)
    timings["cluster"] = time.perf_counter() - start
    start = time.perf_counter()
    keys, events = carry_forward(previous_keys, clustering.clusters, at=at)
    timings["keys"] = time.perf_counter() - start
    return Relink(keys, events, pairs, clustering.clusters, timings, clustering.refused, rules,
                  {r: e.as_dict() for r, e in tested.items()})
