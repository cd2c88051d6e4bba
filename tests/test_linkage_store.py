"""The linkage tables' writes: replace is all-or-nothing and keeps the table's constraints;
delete_tokens removes exactly the tokens given."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from hub_assets.linkage import store


def _keys(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"record_token": pl.String, "person_key": pl.String}, orient="row")


def test_replace_swaps_rows_and_keeps_the_primary_key(tmp_path):
    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    store.replace(con, "person_keys", _keys(("t1", "p1"), ("t2", "p1")))
    store.replace(con, "person_keys", _keys(("t2", "p2"), ("t3", "p3")))
    assert store.read(con, "person_keys").sort("record_token").rows() == [("t2", "p2"), ("t3", "p3")]
    with pytest.raises(duckdb.ConstraintException):
        store.append(con, "person_keys", _keys(("t3", "p9")))


def test_a_failed_replace_leaves_the_old_rows(tmp_path):
    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    store.replace(con, "person_keys", _keys(("t1", "p1")))
    with pytest.raises(duckdb.ConstraintException):  # the same token twice
        store.replace(con, "person_keys", _keys(("t2", "p2"), ("t2", "p3")))
    assert store.read(con, "person_keys").rows() == [("t1", "p1")]


def test_delete_tokens_removes_only_those(tmp_path):
    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    store.replace(con, "person_keys", _keys(("t1", "p1"), ("t2", "p1"), ("t3", "p2")))
    store.delete_tokens(con, "person_keys", pl.Series(["t2", "not-there"]))
    store.delete_tokens(con, "person_keys", pl.Series([], dtype=pl.String))
    assert store.read(con, "person_keys").sort("record_token").rows() == [("t1", "p1"), ("t3", "p2")]
