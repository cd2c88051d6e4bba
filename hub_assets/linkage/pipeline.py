"""The two ways people are (re)formed, end to end on prepared records: a full re-link and a
first-time training run. Incremental attach lives in incremental.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import time

import polars as pl

from hub_assets.linkage.cluster import KeptApart, cluster_pairs
from hub_assets.linkage.keys import carry_forward
from hub_assets.linkage.predict import pairs_frame, predict_pairs
from hub_assets.linkage.settings import MATCH_THRESHOLD
from hub_assets.linkage.train import make_linker, train


@dataclass
class Relink:
    keys: pl.DataFrame  # record_token, person_key
    events: pl.DataFrame  # key events (keys.KEY_EVENT_SCHEMA)
    pairs: pl.DataFrame  # scored pairs >= predict.PAIR_FLOOR
    clusters: pl.DataFrame  # record_token, cluster_id
    timings: dict[str, float] = field(default_factory=dict)


def train_model(prepared: pl.DataFrame, **train_options) -> tuple[dict, object]:
    """Train a fresh model on these records; returns (model JSON dict, trained linker)."""
    linker = make_linker(prepared)
    return train(linker, **train_options), linker


def full_relink(prepared: pl.DataFrame, model: dict, previous_keys: pl.DataFrame, *,
                threshold: float = MATCH_THRESHOLD, at: datetime | None = None,
                linker=None, kept_apart: KeptApart | None = None) -> Relink:
    """Score, cluster and carry keys forward over every current record, keeping apart the
    people ``kept_apart`` names (review.py)."""
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
    clusters = cluster_pairs(prepared, pairs, threshold, kept_apart)
    timings["cluster"] = time.perf_counter() - start
    start = time.perf_counter()
    keys, events = carry_forward(previous_keys, clusters, at=at)
    timings["keys"] = time.perf_counter() - start
    return Relink(keys, events, pairs, clusters, timings)
