"""Precision and recall of the linkage estimated from labelled pairs, with confidence intervals,
at each candidate match threshold: how a city sets and checks its threshold without ground truth.

The method is the one linkage units use for clerical review: the scored pairs are split into
match-probability *bands* (``BAND_EDGES``); a sample of pairs is drawn from every band
(``stratified_sample``) and a reviewer labels each one a match or not; the share of matches in
each band's sample, weighted by the band's size, estimates how many true matches every band
holds. From those:

- precision at threshold t = estimated matches in the bands at or above t / pairs in them;
- recall at t = estimated matches at or above t / estimated matches in every band. The bands
  cover the scored pairs only (p >= ``predict.PAIR_FLOOR``): true matches that blocking never
  compared, or that scored below the floor, are invisible to a sample of pairs, so this recall
  is an upper bound. Labelled *records* (a person id per record) see them:
  ``recall_labelled_records`` counts every true pair among the labelled records.

Intervals: the stratified estimate's variance (with each band's finite-population correction)
gives an effective sample size, and the Clopper-Pearson interval is taken at that size
(Korn and Graubard 1998, the ``svyciprop(method = "beta")`` of R's survey package), with
statsmodels' ``proportion_confint``. A band whose labels all agree still carries uncertainty:
its variance uses (x + 0.5) / (n + 1) for the share, and the effective size is taken at the
estimate with those shares. A band reviewed whole is exact. A band that holds pairs but no
labels leaves every estimate that needs it undefined (NaN), never silently skipped.

Labels come from three places (``pair_labels_*``): the decisions of ``hub review``, a file of
labelled pairs (the filled-in sample), and a file of labelled records. None is read by
linkage itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from statsmodels.stats.proportion import proportion_confint

from hub_assets.linkage.predict import PAIR_FLOOR
from hub_assets.linkage.review import latest_decisions
from hub_assets.linkage.settings import MATCH_THRESHOLD

BAND_EDGES = tuple(sorted({PAIR_FLOOR, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999, MATCH_THRESHOLD}))
CONFIDENCE = 0.95
LABEL_SCHEMA = {"unique_id_l": pl.String, "unique_id_r": pl.String, "is_match": pl.Boolean}
TRUE_WORDS = {"1", "y", "yes", "true", "t", "match", "m"}
FALSE_WORDS = {"0", "n", "no", "false", "f", "non-match", "nonmatch", "no match", "u"}


def band_of(probability: pl.Expr, edges: tuple[float, ...] = BAND_EDGES) -> pl.Expr:
    """The lower edge of the band a match probability falls in (null below the first edge)."""
    band = pl.lit(None, pl.Float64)
    for edge in edges:
        band = pl.when(probability >= edge).then(pl.lit(edge)).otherwise(band)
    return band


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    """Each pair with its smaller id on the left, so that a pair has one spelling."""
    left, right = pl.col("unique_id_l"), pl.col("unique_id_r")
    return frame.with_columns(pl.min_horizontal(left, right).alias("unique_id_l"),
                              pl.max_horizontal(left, right).alias("unique_id_r"))


def stratified_sample(pairs: pl.DataFrame, per_band: int, seed: int,
                      edges: tuple[float, ...] = BAND_EDGES) -> pl.DataFrame:
    """Up to ``per_band`` scored pairs from every band, the same ones for the same seed and
    pairs: unique_id_l, unique_id_r, match_probability, band."""
    banded = (ordered(pairs).with_columns(band_of(pl.col("match_probability"), edges).alias("band"))
              .filter(pl.col("band").is_not_null()).sort("unique_id_l", "unique_id_r"))
    rng = np.random.default_rng(seed)
    drawn = []
    for band in edges:
        members = banded.filter(pl.col("band") == band)
        take = min(per_band, members.height)
        if take:
            drawn.append(members[np.sort(rng.choice(members.height, size=take, replace=False))])
    if not drawn:
        return banded.select("unique_id_l", "unique_id_r", "match_probability", "band").clear()
    return pl.concat(drawn).select("unique_id_l", "unique_id_r", "match_probability", "band")


def pair_labels_from_decisions(queue: pl.DataFrame, decisions: pl.DataFrame,
                               keys: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Pairs labelled by ``hub review`` decisions (review.py), on the scored pairs of each
    decided record:

    - ``merge`` (the candidate people are one person): the record matches every record of
      every candidate person;
    - ``keep_apart`` (they are not): the record stays with the person it joined, so it matches
      none of the other candidates' records. Its pairs with the person it joined stay
      unlabelled: the reviewer was not asked about them."""
    decided = queue.join(latest_decisions(decisions), on="record_token", how="inner")
    if decided.height == 0:
        return pl.DataFrame(schema=LABEL_SCHEMA)
    candidates = (decided.select("record_token", "attached_key", "decision",
                                 pl.col("candidate_keys").alias("person_key"))
                  .explode("person_key")
                  .filter((pl.col("decision") == "merge") | (pl.col("person_key") != pl.col("attached_key")))
                  .unique(["record_token", "person_key"]))
    others = (candidates.join(keys.rename({"record_token": "other"}), on="person_key")
              .filter(pl.col("other") != pl.col("record_token")))
    labels = ordered(others.select(pl.col("record_token").alias("unique_id_l"),
                                   pl.col("other").alias("unique_id_r"),
                                   (pl.col("decision") == "merge").alias("is_match")))
    scored = ordered(pairs).select("unique_id_l", "unique_id_r")
    return labels.join(scored, on=["unique_id_l", "unique_id_r"], how="semi").unique(
        ["unique_id_l", "unique_id_r"], keep="last").select(list(LABEL_SCHEMA))


def pair_labels_from_records(records: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Every scored pair whose two records both carry a person label (record_token, person_id)
    is labelled: a match when the labels agree."""
    person = records.select("record_token", pl.col("person_id").cast(pl.String))
    return (ordered(pairs).join(person, left_on="unique_id_l", right_on="record_token")
            .join(person, left_on="unique_id_r", right_on="record_token", suffix="_r")
            .select("unique_id_l", "unique_id_r",
                    (pl.col("person_id") == pl.col("person_id_r")).alias("is_match")))


def read_labels(path: Path, identity: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """A labels file (CSV or Parquet): labelled pairs (``record_token_l, record_token_r,
    is_match``; rows with is_match blank are not yet reviewed and skipped) or labelled records
    (``person_id`` with ``record_token``, or with ``source, record_id``). Returns (pair labels
    as given or None, record labels or None)."""
    frame = pl.read_csv(path, infer_schema=False) if path.suffix.lower() == ".csv" else pl.read_parquet(path)
    columns = set(frame.columns)
    if {"record_token_l", "record_token_r", "is_match"} <= columns:
        return _parse_pair_labels(frame, path), None
    if "person_id" in columns and "record_token" in columns:
        return None, frame.select("record_token", pl.col("person_id").cast(pl.String))
    if "person_id" in columns and {"source", "record_id"} <= columns:
        tokens = identity.sql("select record_token, source, record_id from current_records").pl()
        given = frame.select(pl.col("source").cast(pl.String), pl.col("record_id").cast(pl.String),
                             pl.col("person_id").cast(pl.String))
        return None, tokens.join(given, on=["source", "record_id"]).select("record_token", "person_id")
    raise ValueError(f"{path}: labels need record_token_l, record_token_r, is_match (pairs) or "
                     f"person_id with record_token or with source, record_id (records); "
                     f"found columns {', '.join(frame.columns)}")


def _parse_pair_labels(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    text = pl.col("is_match").cast(pl.String).str.strip_chars().str.to_lowercase()
    parsed = frame.with_row_index("row", offset=2).with_columns(
        pl.when(text.is_in(list(TRUE_WORDS))).then(True)
        .when(text.is_in(list(FALSE_WORDS))).then(False).otherwise(None).alias("label"), text.alias("text"))
    bad = parsed.filter(pl.col("label").is_null() & pl.col("text").is_not_null() & (pl.col("text") != ""))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(f"{path}: row {row['row']}, column is_match: {row['is_match']!r} is not a "
                         "label (use yes/no, 1/0, true/false or match/non-match; blank = not reviewed)")
    return ordered(parsed.filter(pl.col("label").is_not_null()).select(
        pl.col("record_token_l").alias("unique_id_l"), pl.col("record_token_r").alias("unique_id_r"),
        pl.col("label").alias("is_match")))


def labels_outside(pairs: pl.DataFrame, labels: pl.DataFrame) -> int:
    """Labelled pairs that are not among the scored pairs (so in no band): counted and shown,
    never silently dropped. Labelled records reach them through ``recall_labelled_records``."""
    return ordered(labels).join(ordered(pairs), on=["unique_id_l", "unique_id_r"], how="anti").height


def estimate(pairs: pl.DataFrame, labels: pl.DataFrame, *, record_labels: pl.DataFrame | None = None,
             edges: tuple[float, ...] = BAND_EDGES, confidence: float = CONFIDENCE) -> pl.DataFrame:
    """One row per candidate threshold (each band's lower edge): links at or above it, the
    labels the estimate rests on, precision and recall with their intervals."""
    bands = band_table(pairs, labels, edges)
    alpha = 1 - confidence
    rows = []
    for threshold in edges:
        above = bands.filter(pl.col("band") >= threshold)
        row = {"threshold": threshold, "links": int(above["pairs"].sum()),
               "labelled": int(above["labelled"].sum()),
               **_prefixed("precision", _precision(above, alpha)),
               **_prefixed("recall", _recall(bands, threshold, alpha))}
        if record_labels is not None:
            row |= _prefixed("recall_labelled_records", _record_recall(pairs, record_labels, threshold, alpha))
        rows.append(row)
    return pl.DataFrame(rows)


def band_table(pairs: pl.DataFrame, labels: pl.DataFrame, edges: tuple[float, ...] = BAND_EDGES) -> pl.DataFrame:
    """Per band: pairs scored in it, labelled pairs, matches among them."""
    scored = ordered(pairs).with_columns(band_of(pl.col("match_probability"), edges).alias("band"))
    labelled = scored.join(ordered(labels).unique(["unique_id_l", "unique_id_r"], keep="last"),
                           on=["unique_id_l", "unique_id_r"], how="left")
    counts = labelled.filter(pl.col("band").is_not_null()).group_by("band").agg(
        pl.len().alias("pairs"), pl.col("is_match").is_not_null().sum().alias("labelled"),
        pl.col("is_match").fill_null(False).sum().alias("matches"))
    every = pl.DataFrame({"band": list(edges)})
    return (every.join(counts, on="band", how="left").fill_null(0)
            .with_columns(pl.col("pairs", "labelled", "matches").cast(pl.Int64)).sort("band"))


def _band_stats(bands: pl.DataFrame) -> tuple[np.ndarray, ...]:
    size = bands["pairs"].to_numpy().astype(float)
    n = bands["labelled"].to_numpy().astype(float)
    x = bands["matches"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, x / n, np.nan)
        adjusted = np.where((x == 0) | (x == n), (x + 0.5) / (n + 1), x / n)
        fpc = np.where(size > 0, 1 - n / size, 0.0)
        variance = np.where(n > 0, adjusted * (1 - adjusted) / n * fpc, np.nan)
    # The share the variance assumed, for the effective sample size (exact in a census band).
    design = np.where(fpc > 0, adjusted, share)
    return size, n, share, variance, design


def _precision(above: pl.DataFrame, alpha: float) -> tuple[float, float, float]:
    size, n, share, variance, design = _band_stats(above)
    held = size > 0
    if not held.any():
        return math.nan, math.nan, math.nan
    if (n[held] == 0).any():
        return math.nan, math.nan, math.nan  # a band with pairs and no labels
    weight = size[held] / size[held].sum()
    point = float((weight * share[held]).sum())
    return _interval(point, float((weight * design[held]).sum()),
                     float((weight ** 2 * variance[held]).sum()), n[held].sum(), alpha)


def _recall(bands: pl.DataFrame, threshold: float, alpha: float) -> tuple[float, float, float]:
    size, n, share, variance, design = _band_stats(bands)
    held = size > 0
    if not held.any() or (n[held] == 0).any():
        return math.nan, math.nan, math.nan
    matches = np.where(held, size * np.nan_to_num(share), 0.0)
    var_matches = np.where(held, size ** 2 * np.nan_to_num(variance), 0.0)
    above = bands["band"].to_numpy() >= threshold
    found, total = matches[above].sum(), matches.sum()
    if total == 0:
        return math.nan, math.nan, math.nan  # no match in any labelled band
    point = float(found / total)
    var = ((1 - point) ** 2 * var_matches[above].sum() + point ** 2 * var_matches[~above].sum()) / total ** 2
    assumed = np.where(held, size * np.nan_to_num(design), 0.0)
    return _interval(point, float(assumed[above].sum() / assumed.sum()), float(var), n[held].sum(), alpha)


def _interval(point: float, assumed: float, variance: float, labelled: float,
              alpha: float) -> tuple[float, float, float]:
    """Clopper-Pearson at the Korn-Graubard effective sample size, capped at the labels held.
    The size is taken at ``assumed``, the estimate with the shares the variance assumed, so
    that a point estimate just below 1 does not shrink it. Zero variance means every pair was
    labelled: the estimate is exact."""
    if variance <= 0:
        return point, point, point
    n_eff = min(labelled, assumed * (1 - assumed) / variance)
    low, high = proportion_confint(point * n_eff, n_eff, alpha=alpha, method="beta")
    return point, float(min(low, point)), float(max(high, point))


def _record_recall(pairs: pl.DataFrame, record_labels: pl.DataFrame, threshold: float,
                   alpha: float) -> tuple[float, float, float]:
    """Share of the true pairs among labelled records that score at or above the threshold
    (unscored true pairs count as missed); a Wilson interval over those pairs."""
    sizes = record_labels.group_by("person_id").len()
    true_pairs = int((sizes["len"] * (sizes["len"] - 1) // 2).sum())
    if true_pairs == 0:
        return math.nan, math.nan, math.nan
    found = pair_labels_from_records(record_labels, pairs.filter(
        pl.col("match_probability") >= threshold))["is_match"].sum()
    low, high = proportion_confint(found, true_pairs, alpha=alpha, method="wilson")
    return found / true_pairs, float(low), float(high)


def _prefixed(name: str, values: tuple[float, float, float]) -> dict[str, float]:
    point, low, high = values
    return {name: point, f"{name}_low": low, f"{name}_high": high}


def render_markdown(table: pl.DataFrame, bands: pl.DataFrame, current: float = MATCH_THRESHOLD,
                    confidence: float = CONFIDENCE) -> str:
    """The estimates as a Markdown table, the current threshold marked, and the bands beneath."""
    def cell(row: dict, name: str) -> str:
        if name not in row or row[name] is None or math.isnan(row[name]):
            return "n/a"
        return f"{row[name]:.4f} ({row[f'{name}_low']:.4f}-{row[f'{name}_high']:.4f})"

    with_records = "recall_labelled_records" in table.columns
    level = f"{confidence:.0%}"
    head = f"| threshold | links | labelled | precision ({level} CI) | recall, scored pairs ({level} CI) |"
    rule = "|---|---|---|---|---|"
    if with_records:
        head += f" recall, labelled records ({level} CI) |"
        rule += "---|"
    lines = [head, rule]
    for row in table.iter_rows(named=True):
        mark = " (current)" if math.isclose(row["threshold"], current) else ""
        line = (f"| {row['threshold']:g}{mark} | {row['links']:,} | {row['labelled']:,} | "
                f"{cell(row, 'precision')} | {cell(row, 'recall')} |")
        if with_records:
            line += f" {cell(row, 'recall_labelled_records')} |"
        lines.append(line)
    lines += ["", "| band (p from) | scored pairs | labelled | matches |", "|---|---|---|---|"]
    lines += [f"| {r['band']:g} | {r['pairs']:,} | {r['labelled']:,} | {r['matches']:,} |"
              for r in bands.iter_rows(named=True)]
    return "\n".join(lines) + "\n"
