"""Predicted error in counts of distinct people, from the linkage output alone (no truth).

Every use case counts people (``count(distinct person_key)``), so linkage errors reach the
published numbers in two ways:
- a *false link* (two people joined into one key) makes a count too small: under-count;
- a *missed link* (one person left under two keys) makes a count too large: over-count.

The scored pairs carry Splink's match probability ``p``, which is what the model believes the
chance of "same person" is. Taking the model at its word:
- each accepted pair (``p >= threshold``) whose records share a key is a false link with
  probability ``1 - p``; a person can lose at most ``records - 1`` people to false links, so the
  expected under-count of a person is ``min(sum(1 - p), records - 1)``;
- each pair of *different* keys joined by at least one scored pair (below the threshold, or the
  two would share a key) is really one person with probability ``max p`` over the pairs between
  them (pairs between the same two people are not independent evidence, so they are not
  combined as if they were); the expected over-count is the sum of those probabilities.
Both are sums of Bernoulli events, so their spread is ``sqrt(sum(q (1 - q)))``.

What this cannot see: true matches never scored (blocking missed them, or ``p`` below the pair
floor, 0.5, so they were never stored) and a mis-calibrated model. The band is therefore a
lower bound on the real error; ``docs/linkage.md`` ("Predicted error in counts") says how it
compared with the synthetic city's truth.

For a count over part of the city (the records behind one use case), only errors that change
*that* count matter: a missed link counts when both keys have records in the subset, a false
link when its person has at least two records in the subset (capped at their number minus one;
every accepted pair of that person counts, even one that only attaches an outside record, so
the band errs wide).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import duckdb
import polars as pl

from hub_assets.linkage.settings import MATCH_THRESHOLD


@dataclass(frozen=True)
class CountError:
    """Expected linkage error in a count of distinct people over ``n_records`` records."""

    n_records: int
    n_persons: int  # distinct person keys among those records: the count as published
    expected_overcount: float  # people counted twice (missed links)
    expected_undercount: float  # people hidden inside another (false links)
    overcount_sd: float
    undercount_sd: float
    threshold: float

    @property
    def overcount_rate(self) -> float:
        return self.expected_overcount / self.n_persons if self.n_persons else 0.0

    @property
    def undercount_rate(self) -> float:
        return self.expected_undercount / self.n_persons if self.n_persons else 0.0

    @property
    def expected_true_count(self) -> float:
        """The published count corrected by the expected errors."""
        return self.n_persons - self.expected_overcount + self.expected_undercount

    def relative_error(self, z: float = 2.0) -> float:
        """Bound on |published - true| / published: the larger of the two one-sided errors,
        each ``expected + z * sd`` (z = 2: roughly 97.5% one-sided if the model is calibrated)."""
        if not self.n_persons:
            return 0.0
        over = self.expected_overcount + z * self.overcount_sd
        under = self.expected_undercount + z * self.undercount_sd
        return max(over, under) / self.n_persons

    def band(self, count: float, z: float = 2.0) -> tuple[float, float]:
        """Where the true value of a published ``count`` over these records is expected to lie."""
        over = (self.expected_overcount + z * self.overcount_sd) / max(self.n_persons, 1)
        under = (self.expected_undercount + z * self.undercount_sd) / max(self.n_persons, 1)
        return count * (1 - over), count * (1 + under)

    def as_dict(self) -> dict:
        return asdict(self) | {"overcount_rate": self.overcount_rate,
                               "undercount_rate": self.undercount_rate,
                               "relative_error_2sd": self.relative_error(2.0)}


def predict_count_error(pairs: pl.DataFrame, person_keys: pl.DataFrame,
                        threshold: float = MATCH_THRESHOLD,
                        records: Iterable[str] | pl.Series | None = None) -> CountError:
    """``pairs``: unique_id_l, unique_id_r, match_probability (record tokens);
    ``person_keys``: record_token, person_key; ``records``: optional subset of record tokens
    whose distinct people are being counted (default: every record with a key)."""
    keys = person_keys.select("record_token", "person_key")
    in_subset = (keys if records is None else keys.join(
        pl.DataFrame({"record_token": pl.Series(list(records), dtype=pl.String)}).unique(),
        on="record_token", how="semi"))
    subset_per_key = in_subset.group_by("person_key").agg(pl.len().alias("n_in_subset"))

    keyed = (pairs.select("unique_id_l", "unique_id_r", pl.col("match_probability").cast(pl.Float64))
             .join(keys.rename({"record_token": "unique_id_l", "person_key": "key_l"}), on="unique_id_l")
             .join(keys.rename({"record_token": "unique_id_r", "person_key": "key_r"}), on="unique_id_r"))

    false_links = _false_links(keyed, subset_per_key, threshold)
    missed_links = _missed_links(keyed, subset_per_key)
    return CountError(
        n_records=in_subset.height,
        n_persons=subset_per_key.height,
        expected_overcount=_sum(missed_links, "q"),
        expected_undercount=_sum(false_links, "q"),
        overcount_sd=math.sqrt(_sum(missed_links.select((pl.col("q") * (1 - pl.col("q"))).alias("v")), "v")),
        undercount_sd=math.sqrt(_sum(false_links, "v")),
        threshold=threshold,
    )


def _false_links(keyed: pl.DataFrame, subset_per_key: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Per person key with 2+ subset records: expected people hidden in it, and its variance."""
    accepted = keyed.filter((pl.col("key_l") == pl.col("key_r"))
                            & (pl.col("match_probability") >= threshold))
    per_key = accepted.group_by(pl.col("key_l").alias("person_key")).agg(
        (1 - pl.col("match_probability")).sum().alias("q_sum"),
        (pl.col("match_probability") * (1 - pl.col("match_probability"))).sum().alias("v"))
    return (per_key.join(subset_per_key, on="person_key")
            .filter(pl.col("n_in_subset") >= 2)
            .with_columns(pl.min_horizontal("q_sum", pl.col("n_in_subset") - 1).alias("q")))


def _missed_links(keyed: pl.DataFrame, subset_per_key: pl.DataFrame) -> pl.DataFrame:
    """Per pair of different person keys, both in the subset: chance they are one person."""
    subset_keys = subset_per_key.select("person_key")
    between = (keyed.filter(pl.col("key_l") != pl.col("key_r"))
               .join(subset_keys, left_on="key_l", right_on="person_key", how="semi")
               .join(subset_keys, left_on="key_r", right_on="person_key", how="semi"))
    ordered = between.select(pl.min_horizontal("key_l", "key_r").alias("a"),
                             pl.max_horizontal("key_l", "key_r").alias("b"), "match_probability")
    return ordered.group_by("a", "b").agg(pl.col("match_probability").max().alias("q"))


def _sum(frame: pl.DataFrame, column: str) -> float:
    return float(frame[column].sum()) if frame.height else 0.0


def read_count_error(con: duckdb.DuckDBPyConnection, threshold: float = MATCH_THRESHOLD,
                     sources: Iterable[str] | None = None) -> CountError:
    """The predicted count error from the identity zone's linkage tables (``linkage_pairs``,
    ``person_keys``), for every current record or only those of the given ``sources``
    (identity-block sources as in ``records.source``, e.g. ``youthworks`` or ``vital_records_mother``)."""
    from hub_assets.linkage import store  # the identity zone's table layout

    pairs = store.read(con, "linkage_pairs")
    keys = store.read(con, "person_keys")
    records = None
    if sources is not None:
        wanted = list(sources)
        records = con.sql("select distinct record_token from current_records where source in "
                          "(select unnest(?))", params=[wanted]).pl()["record_token"]
    return predict_count_error(pairs, keys, threshold, records)
