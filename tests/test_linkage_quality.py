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


def test_error_rates_by_group_against_truth():
    records, truth, keys, pairs = _setup()
    groups = quality_report(records, keys, pairs, truth=truth, as_of=date(2024, 6, 1))["error_by_group"]
    # per record (made, true, correct links): a b (1,2,1), c (0,2,0), d e (2,1,1), f (2,0,0)
    schools, rec, hmis = (groups["source"][s] for s in ("schools", "rec", "hmis"))
    assert (schools["links"], schools["true_links"], schools["correct_links"]) == (1, 4, 1)
    assert (schools["precision"], schools["recall"]) == (1.0, 0.25)  # c was split off
    assert rec["precision"] == rec["recall"] == 2 / 3
    assert (hmis["precision"], hmis["recall"]) == (0.25, 1.0)  # f wrongly merged with d and e
    race = groups["race/ethnicity"]
    assert (race["BLACK"]["precision"], race["BLACK"]["recall"]) == (1.0, 1 / 3)
    assert (race["UNKNOWN"]["precision"], race["UNKNOWN"]["recall"]) == (0.0, None)
    assert groups["age band"]["11-13"]["records"] == 2
    text = render_markdown(quality_report(records, keys, pairs, truth=truth, as_of=date(2024, 6, 1)))
    assert (
        "## Linkage error by group (against ground truth)" in text and "| hmis | 2 | 1 | 4 | 0.2500 | 1.0000 |" in text
    )


def test_error_rates_by_group_from_reviewed_pairs_when_there_is_no_truth():
    records, truth, keys, pairs = _setup()
    # a reviewer labelled every scored pair: ab, de, ac are matches; ef is not
    labels = pl.DataFrame(
        {
            "unique_id_l": ["a", "d", "e", "a"],
            "unique_id_r": ["b", "e", "f", "c"],
            "is_match": [True, True, False, True],
        }
    )
    report = quality_report(records, keys, pairs, labels=labels, as_of=date(2024, 6, 1), threshold=0.8)
    assert "error_by_group" not in report
    source = report["error_by_group_from_labels"]["source"]
    # schools touches ab (0.9999) and ac (0.7): one link at 0.8, true; ac missed
    assert (source["schools"]["precision"], source["schools"]["recall"]) == (1.0, 0.5)
    assert (source["hmis"]["precision"], source["hmis"]["recall"]) == (0.5, 1.0)
    assert source["hmis"]["precision_low"] == source["hmis"]["precision_high"]  # every pair labelled
    partial = quality_report(records, keys, pairs, labels=labels.head(2), as_of=date(2024, 6, 1), threshold=0.8)[
        "error_by_group_from_labels"
    ]["source"]
    assert partial["hmis"]["precision"] is None  # ef's band holds no label: not guessed
    assert "estimated from reviewed pairs" in render_markdown(report)
