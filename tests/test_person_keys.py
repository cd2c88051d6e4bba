"""Stable person keys: carried forward by record overlap, merges and splits logged."""

import polars as pl

from hub_assets.linkage.keys import carry_forward, key_stability


def _keys(mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"record_token": list(mapping), "person_key": list(mapping.values())})


def _clusters(mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"record_token": list(mapping), "cluster_id": list(mapping.values())})


def _as_dict(keys: pl.DataFrame) -> dict[str, str]:
    return dict(keys.iter_rows())


def test_first_link_gives_every_cluster_a_new_random_key():
    keys, events = carry_forward(_keys({}), _clusters({"a": "1", "b": "1", "c": "2"}))
    got = _as_dict(keys)
    assert got["a"] == got["b"] != got["c"]
    assert all(len(k) == 16 and k not in {"a", "b", "c", "1", "2"} for k in got.values())
    assert events.height == 0


def test_unchanged_people_keep_their_keys_under_new_cluster_ids():
    previous = _keys({"a": "K1", "b": "K1", "c": "K2"})
    keys, events = carry_forward(previous, _clusters({"a": "x9", "b": "x9", "c": "x3"}))
    assert _as_dict(keys) == {"a": "K1", "b": "K1", "c": "K2"}
    assert events.height == 0
    assert key_stability(previous, keys) == 1.0


def test_merge_keeps_the_majority_key_and_logs_the_retired_one():
    previous = _keys({"a": "K1", "b": "K1", "c": "K2"})
    keys, events = carry_forward(previous, _clusters({"a": "m", "b": "m", "c": "m"}))
    assert set(_as_dict(keys).values()) == {"K1"}
    assert events.select("event", "before_key", "after_key", "n_records").rows() == [
        ("merge", "K2", "K1", 1)]


def test_split_keeps_the_key_with_the_larger_part_and_logs_the_other():
    previous = _keys({"a": "K1", "b": "K1", "c": "K1"})
    keys, events = carry_forward(previous, _clusters({"a": "p", "b": "p", "c": "q"}))
    got = _as_dict(keys)
    assert got["a"] == got["b"] == "K1" and got["c"] != "K1"
    assert events.select("event", "before_key", "after_key", "n_records").rows() == [
        ("split", "K1", got["c"], 1)]


def test_ties_are_broken_deterministically():
    previous = _keys({"a": "K2", "b": "K1"})
    first, _ = carry_forward(previous, _clusters({"a": "m", "b": "m"}))
    second, _ = carry_forward(previous, _clusters({"b": "z", "a": "z"}))
    assert set(_as_dict(first).values()) == set(_as_dict(second).values()) == {"K1"}


def test_new_records_joining_an_existing_person_take_its_key():
    previous = _keys({"a": "K1"})
    keys, events = carry_forward(previous, _clusters({"a": "c", "new": "c"}))
    assert _as_dict(keys) == {"a": "K1", "new": "K1"}
    assert events.height == 0


def test_fresh_keys_never_reuse_a_key_in_use_or_repeat_one():
    from hub_assets.linkage.keys import fresh_keys

    drawn = iter(["k1", "k2", "k2", "k3", "k6", "k4", "k7"])
    # k1 is in use and k2 was drawn twice: all three are drawn again; then k3 is in use
    assert fresh_keys(3, pl.Series(["k1", "k3"]), make_key=lambda: next(drawn)) == ["k7", "k6", "k4"]
    assert len(fresh_keys(1000, pl.Series([], dtype=pl.String))) == 1000
