"""Linkage quality metrics against a hand-made truth, and the report's shape."""

from datetime import date

import polars as pl

from hub_assets.linkage.quality import incompatible_clusters, quality_report, render_markdown


def _setup():
    records = pl.DataFrame({
        "record_token": ["a", "b", "c", "d", "e", "f"],
        "source": ["schools", "rec", "schools", "rec", "hmis", "hmis"],
        "dob": [date(2010, 1, 1)] * 3 + [date(2012, 6, 1), date(2012, 6, 1), date(1990, 1, 1)],
        "sex": ["F", "F", "F", "M", "M", "F"],
        "race_ethnicity": ["BLACK"] * 3 + ["WHITE", "WHITE", None],
    })
    # truth: {a,b,c} one person, {d,e} one, {f} alone.
    truth = pl.DataFrame({"record_token": list("abcdef"), "person_id": ["1", "1", "1", "2", "2", "3"]})
    # prediction: {a,b} linked, c split off; d,e,f wrongly merged.
    keys = pl.DataFrame({"record_token": list("abcdef"), "person_key": ["K", "K", "L", "M", "M", "M"]})
    pairs = pl.DataFrame({"unique_id_l": ["a", "d", "e", "a"], "unique_id_r": ["b", "e", "f", "c"],
                          "match_weight": [20.0, 15.0, 9.0, 3.0],
                          "match_probability": [0.9999, 0.999, 0.995, 0.7]})
    return records, truth, keys, pairs


def test_cluster_and_pairwise_precision_recall_against_truth():
    records, truth, keys, pairs = _setup()
    report = quality_report(records, keys, pairs, truth=truth, as_of=date(2024, 6, 1))
    cluster = report["truth"]["cluster"]
    # true pairs: ab ac bc de = 4; predicted: ab de df ef = 4; correct: ab de = 2
    assert (cluster["true_positive"], cluster["predicted"], cluster["actual"]) == (2, 4, 4)
    assert cluster["precision"] == 0.5 and cluster["recall"] == 0.5
    pairwise = report["truth"]["pairwise"]  # links at >= 0.99: ab de ef -> 2 correct of 3
    assert (pairwise["true_positive"], pairwise["predicted"]) == (2, 3)
    assert report["truth"]["exact_cluster_precision"] == 0.0  # no predicted person is exactly right


def test_rates_distributions_and_uncertain_band():
    records, _, keys, pairs = _setup()
    report = quality_report(records, keys, pairs, as_of=date(2024, 6, 1))
    assert report["link_rate"] == 5 / 6
    assert report["link_rate_by_source"]["schools"]["linked"] == 0.5
    assert report["cluster_size_distribution"] == {"1": 1, "2": 1, "3": 1}
    assert report["uncertain_pairs"] == 1  # the 0.7 pair
    assert report["link_rate_by_age_band"]["11-13"]["records"] == 2  # born 2012-06-01 -> 12
    assert "truth" not in report
    assert "Link rate by race/ethnicity" in render_markdown(report)


def test_people_mixing_sexes_or_distant_birth_dates_are_flagged():
    records, _, keys, _ = _setup()
    assert incompatible_clusters(records, keys)["person_key"].to_list() == ["M"]
