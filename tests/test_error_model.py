"""The predicted count error on hand-made pair tables, and read from a real identity store."""

import math

import duckdb
import polars as pl
import pytest

from hub_assets.linkage import store
from hub_assets.linkage.error_model import predict_count_error, read_count_error

THRESHOLD = 0.95


def _keys(mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"record_token": list(mapping), "person_key": list(mapping.values())})


def _pairs(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame({"unique_id_l": [r[0] for r in rows], "unique_id_r": [r[1] for r in rows],
                         "match_weight": [0.0] * len(rows),
                         "match_probability": [r[2] for r in rows]})


# People: K = {a, b, c} (linked a-b, b-c), L = {d}, M = {e}, N = {f, g}.
KEYS = _keys({"a": "K", "b": "K", "c": "K", "d": "L", "e": "M", "f": "N", "g": "N"})
PAIRS = _pairs([
    ("a", "b", 0.99), ("b", "c", 0.97),  # accepted, same key: 0.01 + 0.03 expected false links
    ("a", "c", 0.60),                    # below threshold but same key: not a false link
    ("c", "d", 0.80), ("a", "d", 0.70),  # K vs L: two pairs, one person-pair: max 0.8
    ("e", "f", 0.55),                    # M vs N: 0.55
    ("f", "g", 0.999),                   # accepted inside N: 0.001
])


def test_false_links_are_one_minus_p_of_accepted_pairs_inside_a_person():
    error = predict_count_error(PAIRS, KEYS, THRESHOLD)
    assert error.expected_undercount == pytest.approx(0.01 + 0.03 + 0.001)
    assert error.undercount_sd == pytest.approx(math.sqrt(0.99 * 0.01 + 0.97 * 0.03 + 0.999 * 0.001))


def test_missed_links_take_the_strongest_pair_between_two_people_once():
    error = predict_count_error(PAIRS, KEYS, THRESHOLD)
    assert error.expected_overcount == pytest.approx(0.8 + 0.55)
    assert error.overcount_sd == pytest.approx(math.sqrt(0.8 * 0.2 + 0.55 * 0.45))
    assert (error.n_records, error.n_persons) == (7, 4)
    assert error.overcount_rate == pytest.approx(1.35 / 4)
    assert error.expected_true_count == pytest.approx(4 - 1.35 + 0.041)


def test_relative_error_and_band_grow_with_the_spread():
    error = predict_count_error(PAIRS, KEYS, THRESHOLD)
    assert error.relative_error(z=0) == pytest.approx(1.35 / 4)
    assert error.relative_error(z=2) > error.relative_error(z=0)
    low, high = error.band(100, z=0)
    assert low == pytest.approx(100 * (1 - 1.35 / 4)) and high == pytest.approx(100 * (1 + 0.041 / 4))


def test_a_subset_sees_only_the_errors_that_change_its_count():
    # Records {c, d}: K and L are both in it (the 0.8 missed link matters); M-N is not; K has
    # only one subset record, so a false link inside K cannot change how many people {c, d} are.
    error = predict_count_error(PAIRS, KEYS, THRESHOLD, records=["c", "d"])
    assert (error.n_records, error.n_persons) == (2, 2)
    assert error.expected_overcount == pytest.approx(0.8)
    assert error.expected_undercount == 0.0
    # {a, b, c} is one person with two accepted pairs: their false-link chances count.
    inside = predict_count_error(PAIRS, KEYS, THRESHOLD, records=["a", "b", "c"])
    assert inside.expected_undercount == pytest.approx(0.04) and inside.expected_overcount == 0.0


def test_false_links_in_one_person_are_capped_at_its_records_minus_one():
    keys = _keys({"a": "K", "b": "K"})
    pairs = _pairs([("a", "b", 0.96)] * 40)  # duplicated evidence: 40 x 0.04 = 1.6 > 1 person
    assert predict_count_error(pairs, keys, THRESHOLD).expected_undercount == pytest.approx(1.0)


def test_a_perfect_linkage_predicts_no_error():
    keys = _keys({"a": "K", "b": "K", "c": "L"})
    error = predict_count_error(_pairs([("a", "b", 1.0)]), keys, THRESHOLD)
    assert error.relative_error() == 0.0 and error.band(50) == (50.0, 50.0)


def test_read_from_the_identity_store_filters_by_source(tmp_path):
    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    store.replace(con, "linkage_pairs", PAIRS)
    store.replace(con, "person_keys", KEYS)
    con.execute("create table current_records as select * from (values ('a', 'schools'), "
                "('b', 'rec'), ('c', 'rec'), ('d', 'rec'), ('e', 'hmis'), ('f', 'hmis'), "
                "('g', 'hmis')) t(record_token, source)")
    assert read_count_error(con, THRESHOLD) == predict_count_error(PAIRS, KEYS, THRESHOLD)
    rec = read_count_error(con, THRESHOLD, sources=["rec"])
    assert (rec.n_records, rec.n_persons) == (3, 2)
    assert rec.expected_overcount == pytest.approx(0.8)  # K (b, c) vs L (d)
    # K holds two rec records; every accepted pair of K counts (a-b too: the model does not
    # trace which links a subset's records hang on, so it errs towards a wider band).
    assert rec.expected_undercount == pytest.approx(0.04)
    con.close()
