"""Group linked records into people: connected components of pairs at the match threshold.

Why 0.99 (``settings.MATCH_THRESHOLD``): connected components are transitive, so one false
link merges two whole people, and a merged person corrupts every count a use case makes
(unduplicated participants, crossover youth). Counts tolerate a missed link better than a
false one: a person split in two is over-counted once, a false merge can hide a crossover
or invent one. At 0.99 a pair needs roughly agreeing name + DOB + one more field; the pairs
between 0.5 and 0.99 are reported as the uncertain band (quality.py) for clerical review.
The threshold was tuned on synthetic cities (benchmarks/results/linkage.md), never on truth
inside the pipeline.
"""

from __future__ import annotations

import polars as pl
from splink import Linker

from hub_assets.linkage.settings import MATCH_THRESHOLD


def cluster_records(linker: Linker, pairs, threshold: float = MATCH_THRESHOLD) -> pl.DataFrame:
    """``record_token, cluster_id`` for every input record (singletons get their own cluster)."""
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pairs, threshold_match_probability=threshold)
    con = clusters.db_api.duckdb_con
    return con.sql(
        f"select unique_id as record_token, cluster_id from {clusters.physical_name}").pl()


def cluster_pairs(tokens: pl.Series, pairs: pl.DataFrame, threshold: float = MATCH_THRESHOLD
                  ) -> pl.DataFrame:
    """The same clustering without Splink, for pairs already in memory (incremental attach).

    Union-find over the links; the cluster id is the smallest record token in the cluster."""
    parent: dict[str, str] = {t: t for t in tokens.to_list()}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links = pairs.filter(pl.col("match_probability") >= threshold)
    for left, right in links.select("unique_id_l", "unique_id_r").iter_rows():
        a, b = root(left), root(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return pl.DataFrame({"record_token": list(parent), "cluster_id": [root(t) for t in parent]},
                        schema={"record_token": pl.String, "cluster_id": pl.String})
