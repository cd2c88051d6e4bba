"""Precision and recall estimated from a stratified sample of labelled pairs: intervals that
cover the truth, and the edges (a band without labels, bands of only matches, a census)."""

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from hub_assets.linkage.evaluate import (
    BAND_EDGES,
    band_table,
    estimate,
    labels_outside,
    pair_labels_from_decisions,
    pair_labels_from_records,
    read_labels,
    render_markdown,
    stratified_sample,
)
from hub_assets.linkage.incremental import REVIEW_SCHEMA
from hub_assets.linkage.review import DECISION_SCHEMA

# A planted population: per band (lower edge), how many pairs and what share are true matches.
PLANTED = {0.5: (400, 0.30), 0.8: (300, 0.75), 0.9: (250, 0.85), 0.95: (500, 0.93),
           0.99: (800, 0.985), 0.999: (1500, 0.997), 0.9999: (6000, 0.9995)}
assert tuple(PLANTED) == BAND_EDGES


def _planted(seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(scored pairs, the truth of every pair)."""
    rng = np.random.default_rng(seed)
    uppers = dict(zip(BAND_EDGES, [*BAND_EDGES[1:], 1.0]))
    rows, truth = [], []
    for band, (size, share) in PLANTED.items():
        matches = np.zeros(size, dtype=bool)
        matches[: round(size * share)] = True
        rng.shuffle(matches)
        probability = rng.uniform(band, uppers[band], size)
        for i in range(size):
            left, right = f"a{band}_{i:05d}", f"b{band}_{i:05d}"
            rows.append((left, right, 0.0, float(probability[i])))
            truth.append((left, right, bool(matches[i])))
    pairs = pl.DataFrame(rows, schema=["unique_id_l", "unique_id_r", "match_weight", "match_probability"],
                         orient="row")
    return pairs, pl.DataFrame(truth, schema=["unique_id_l", "unique_id_r", "is_match"], orient="row")


def _true_rates(truth: pl.DataFrame, pairs: pl.DataFrame, threshold: float) -> tuple[float, float]:
    scored = pairs.join(truth, on=["unique_id_l", "unique_id_r"])
    above = scored.filter(pl.col("match_probability") >= threshold)
    return above["is_match"].mean(), above["is_match"].sum() / scored["is_match"].sum()


def _review(truth: pl.DataFrame, sample: pl.DataFrame) -> pl.DataFrame:
    return sample.join(truth, on=["unique_id_l", "unique_id_r"]).select("unique_id_l", "unique_id_r", "is_match")


def test_intervals_from_a_stratified_sample_cover_the_planted_precision_and_recall():
    pairs, truth = _planted()
    table = estimate(pairs, _review(truth, stratified_sample(pairs, per_band=60, seed=3)))
    assert table["labelled"][0] == 7 * 60 and table["links"][0] == pairs.height
    for row in table.iter_rows(named=True):
        precision, recall = _true_rates(truth, pairs, row["threshold"])
        assert row["precision_low"] <= precision <= row["precision_high"], row
        assert row["recall_low"] <= recall <= row["recall_high"], row
        assert row["precision_high"] - row["precision_low"] < 0.1  # informative, not only safe
    # The weighting by band size matters: the unweighted share of matches in the sample is far
    # from the truth at the lowest threshold (equal samples per band over-represent low bands).
    sample = _review(truth, stratified_sample(pairs, per_band=60, seed=3))
    assert abs(sample["is_match"].mean() - _true_rates(truth, pairs, 0.5)[0]) > 0.05
    assert abs(table["precision"][0] - _true_rates(truth, pairs, 0.5)[0]) < 0.03


def test_intervals_reach_their_nominal_coverage_over_many_samples():
    pairs, truth = _planted()
    precision, recall = _true_rates(truth, pairs, 0.95)
    covered_p = covered_r = 0
    draws = 100
    for seed in range(draws):
        row = estimate(pairs, _review(truth, stratified_sample(pairs, per_band=40, seed=seed))).filter(
            pl.col("threshold") == 0.95).row(0, named=True)
        covered_p += row["precision_low"] <= precision <= row["precision_high"]
        covered_r += row["recall_low"] <= recall <= row["recall_high"]
    # 95% intervals: at least 88 of 100 must cover (a binomial 1-in-1000 lower tail is ~88).
    assert covered_p >= 88 and covered_r >= 88, (covered_p, covered_r)


def test_the_sample_is_the_same_for_the_same_seed_and_takes_every_pair_of_a_small_band():
    pairs, _ = _planted()
    first, again = stratified_sample(pairs, 50, seed=11), stratified_sample(pairs.reverse(), 50, seed=11)
    assert first.equals(again)
    assert not first.equals(stratified_sample(pairs, 50, seed=12))
    assert first.group_by("band").len().sort("band")["len"].to_list() == [50] * 7
    small = pairs.filter(pl.col("match_probability") < 0.8).head(7)
    assert stratified_sample(small, 50, seed=1).height == 7


def test_a_band_with_pairs_but_no_labels_leaves_the_estimates_that_need_it_undefined():
    pairs, truth = _planted()
    sample = stratified_sample(pairs, 40, seed=2).filter(pl.col("band") != 0.9)
    table = estimate(pairs, _review(truth, sample))
    below = table.filter(pl.col("threshold") <= 0.9)
    assert all(math.isnan(v) for v in below["precision"]) and all(math.isnan(v) for v in table["recall"])
    above = table.filter(pl.col("threshold") > 0.9)
    assert not any(math.isnan(v) for v in above["precision"])
    assert "n/a" in render_markdown(table, band_table(pairs, _review(truth, sample)))


def test_bands_of_only_matches_give_precision_one_with_an_honest_lower_bound():
    pairs, _ = _planted()
    top = pairs.filter(pl.col("match_probability") >= 0.99)
    sample = stratified_sample(top, 30, seed=4).with_columns(pl.lit(True).alias("is_match"))
    row = estimate(top, sample.select("unique_id_l", "unique_id_r", "is_match")).filter(
        pl.col("threshold") == 0.99).row(0, named=True)
    assert row["precision"] == 1.0 and row["precision_high"] == 1.0
    assert 0.9 < row["precision_low"] < 0.99  # 90 labels, all matches: not proof of perfection
    assert row["recall"] == 1.0


def test_labelling_every_pair_gives_the_exact_rates():
    pairs, truth = _planted()
    table = estimate(pairs, truth)
    for row in table.iter_rows(named=True):
        precision, recall = _true_rates(truth, pairs, row["threshold"])
        assert row["precision"] == pytest.approx(precision) and row["precision_low"] == row["precision_high"]
        assert row["recall"] == pytest.approx(recall)


def test_record_labels_count_true_pairs_that_were_never_scored_as_missed():
    records = pl.DataFrame({"record_token": list("abcde"), "person_id": ["1", "1", "1", "2", "3"]})
    pairs = pl.DataFrame({"unique_id_l": ["b", "a", "d"], "unique_id_r": ["a", "c", "e"],
                          "match_weight": [9.0, 2.0, 1.0], "match_probability": [0.9999, 0.85, 0.6]})
    labels = pair_labels_from_records(records, pairs)
    assert sorted(labels.rows()) == [("a", "b", True), ("a", "c", True), ("d", "e", False)]
    table = estimate(pairs, labels, record_labels=records)
    row = table.filter(pl.col("threshold") == 0.8).row(0, named=True)
    # true pairs ab ac bc: bc was never scored, so recall over the labelled records is 2/3
    assert row["recall_labelled_records"] == pytest.approx(2 / 3) and row["recall"] == 1.0
    assert labels_outside(pairs, pl.DataFrame({"unique_id_l": ["b"], "unique_id_r": ["c"],
                                               "is_match": [True]})) == 1


def test_review_decisions_label_the_decided_records_pairs():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    queue = pl.DataFrame([dict(record_token="new1", attached_key="A", candidate_keys=["A", "B"],
                               best_probability=0.99, reason="", queued_at=at),
                          dict(record_token="new2", attached_key="C", candidate_keys=["C", "D"],
                               best_probability=0.99, reason="", queued_at=at)], schema=REVIEW_SCHEMA)
    decisions = pl.DataFrame([dict(record_token="new1", decision="merge", decided_by="r", note="", decided_at=at),
                              dict(record_token="new2", decision="keep_apart", decided_by="r", note="",
                                   decided_at=at)], schema=DECISION_SCHEMA)
    keys = pl.DataFrame({"record_token": ["a1", "b1", "new1", "c1", "d1", "new2"],
                         "person_key": ["A", "B", "A", "C", "D", "C"]})
    pairs = pl.DataFrame({"unique_id_l": ["a1", "b1", "c1", "d1"], "unique_id_r": ["new1", "new1", "new2", "new2"],
                          "match_weight": [1.0] * 4, "match_probability": [0.99] * 4})
    labels = pair_labels_from_decisions(queue, decisions, keys, pairs)
    assert sorted(labels.rows()) == [("a1", "new1", True), ("b1", "new1", True), ("d1", "new2", False)]


def test_a_labels_file_with_an_unreadable_label_names_its_row_and_column(tmp_path):
    path = tmp_path / "sample.csv"
    path.write_text("record_token_l,record_token_r,is_match\na,b,yes\nc,d,\ne,f,perhaps\n")
    with pytest.raises(ValueError, match=r"row 4, column is_match: 'perhaps'"):
        read_labels(path, None)
    path.write_text("record_token_l,record_token_r,is_match\nb,a,Yes\nc,d,\ne,f,no\n")
    pairs, records = read_labels(path, None)
    assert records is None and sorted(pairs.rows()) == [("a", "b", True), ("e", "f", False)]
