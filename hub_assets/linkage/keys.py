"""Stable person keys: random, never derived from identifiers, carried across re-links.

A full re-link produces new clusters with arbitrary ids. Each previous key is carried to the
new cluster holding most of its records, and each new cluster takes the key most of its
records had: candidate (cluster, key) overlaps are taken largest first, each cluster and each
key used once; ties go to the smaller key, then the smaller cluster id, so the result is
deterministic. Clusters left without a key get a new random one.

What changed is logged as key events, so an analyst can follow a person whose key retired:
- ``merge``: records that had ``before_key``, whose key did not survive, now under ``after_key``;
- ``split``: records that left ``before_key`` (which lives on elsewhere) for ``after_key``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl

KEY_EVENT_SCHEMA = {"event": pl.String, "before_key": pl.String, "after_key": pl.String,
                    "n_records": pl.Int64, "at": pl.Datetime("us", "UTC")}
PERSON_KEY_SCHEMA = {"record_token": pl.String, "person_key": pl.String}


def new_person_key() -> str:
    """64 random bits as hex: no relation to anything about the person."""
    return secrets.token_hex(8)


def carry_forward(previous: pl.DataFrame, clusters: pl.DataFrame, *, at: datetime | None = None,
                  make_key: Callable[[], str] = new_person_key) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(record_token, person_key) for every clustered record, and the key events.

    ``previous``: record_token, person_key (may be empty). ``clusters``: record_token, cluster_id.
    """
    at = at or datetime.now(UTC)
    previous = previous.select(pl.col("record_token").cast(pl.String),
                               pl.col("person_key").cast(pl.String))
    overlap = (clusters.join(previous, on="record_token", how="inner")
               .group_by("cluster_id", "person_key").agg(pl.len().alias("n"))
               .sort(["n", "person_key", "cluster_id"], descending=[True, False, False]))
    key_of_cluster: dict[str, str] = {}
    used_keys: set[str] = set()
    for cluster_id, key, _n in overlap.iter_rows():
        if cluster_id not in key_of_cluster and key not in used_keys:
            key_of_cluster[cluster_id] = key
            used_keys.add(key)

    keyless = [c for c in clusters["cluster_id"].unique().sort().to_list() if c not in key_of_cluster]
    key_of_cluster.update(zip(keyless, fresh_keys(len(keyless), previous["person_key"], make_key)))

    cluster_keys = pl.DataFrame({"cluster_id": list(key_of_cluster), "new_key": list(key_of_cluster.values())},
                                schema={"cluster_id": clusters["cluster_id"].dtype, "new_key": pl.String})
    keys = (clusters.join(cluster_keys, on="cluster_id", how="left")
            .select("record_token", pl.col("new_key").alias("person_key")))
    events = _events(overlap, key_of_cluster, used_keys, at)
    return keys, events


def fresh_keys(n: int, in_use: pl.Series, make_key: Callable[[], str] = new_person_key) -> list[str]:
    """n keys, none of them in ``in_use`` and no two alike. The default keys are drawn in one call
    to the OS's random source (a call per person cost seconds at 1M records) and checked against
    the keys in use by a hash lookup in polars (a Python set of them cost 0.3 s at 1M)."""
    if make_key is new_person_key:
        raw = secrets.token_hex(8 * n)
        drawn = [raw[i:i + 16] for i in range(0, 16 * n, 16)]
    else:
        drawn = [make_key() for _ in range(n)]
    while True:
        keys = pl.Series(drawn, dtype=pl.String)
        clash = keys.is_in(in_use.cast(pl.String).implode()) | keys.is_duplicated()
        if not clash.any():
            return drawn
        drawn = [make_key() if bad else key for key, bad in zip(drawn, clash.to_list())]


def _events(overlap: pl.DataFrame, key_of_cluster: dict[str, str], surviving: set[str],
            at: datetime) -> pl.DataFrame:
    rows = []
    for cluster_id, before, n in overlap.sort(["person_key", "cluster_id"]).iter_rows():
        after = key_of_cluster[cluster_id]
        if before != after:
            rows.append(("split" if before in surviving else "merge", before, after, n, at))
    return pl.DataFrame(rows, schema=KEY_EVENT_SCHEMA, orient="row")


def key_stability(before: pl.DataFrame, after: pl.DataFrame) -> float:
    """Share of records present in both mappings whose person key did not change."""
    both = before.join(after, on="record_token", how="inner", suffix="_after")
    if both.height == 0:
        return 1.0
    return both.filter(pl.col("person_key") == pl.col("person_key_after")).height / both.height
