"""A hub's first drop may be too small or too clean to train on: it still becomes people."""

from __future__ import annotations

import duckdb
import polars as pl
from linkage_people import people, write_identity_db

from hub_assets.linkage import operations
from hub_assets.linkage.starter import STARTER_MODEL
from hub_assets.linkage.train import load_model


def first_records_of_each_person(n_persons: int) -> pl.DataFrame:
    records, truth = people(n_persons, seed=5)
    # One record per person, from one agency, like a first summer-jobs roster: no two records
    # are the same person, so the method has no matches to estimate the prior or m from.
    first = truth.with_row_index().group_by("person_id").agg(pl.col("index").min())["index"]
    return records[sorted(first.to_list())]


def test_first_drop_with_nothing_to_learn_from_links_with_the_starter_model(tmp_path):
    records = first_records_of_each_person(90)
    write_identity_db(tmp_path / "identity.duckdb", records)
    where = operations.LinkagePaths(model=tmp_path / "linkage" / "model.json", reports=tmp_path / "reports")
    con = duckdb.connect(str(tmp_path / "identity.duckdb"))
    try:
        summary = operations.retrain(con, where)
        assert summary["source"].startswith("starter model"), summary["source"]
        assert load_model(where.model) == load_model(STARTER_MODEL)
        operations.link(con, where)
        keys = con.execute("select count(*), count(distinct record_token) from person_keys").fetchone()
    finally:
        con.close()
    assert keys == (records.height, records.height)
