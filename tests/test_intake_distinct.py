"""Standardising once per distinct value gives the same frame as standardising every row."""

import polars as pl

from hub_assets.sources.distinct import select_by_distinct
from hub_assets.sources.standardise import clean_name, split_full_name, standard_address


def test_select_by_distinct_equals_a_plain_select_in_row_order_with_nulls_and_literals():
    frame = pl.DataFrame({
        "first": ["Ann", "ann", None, "José", "Ann", None, "  Bob Jr. "],
        "full": ["SMITH, ANN", None, "Doe, Jo", "SMITH, ANN", "Ann Smith", "Lee, Al", "SMITH, ANN"],
        "address": ["12 N Main Street", "12 N Main Street", None, "1 Oak Ave #3", "", "12 N Main Street", None],
        "RACE": ["1", None, "9", "1", "4", None, "4"],
    })
    exprs = {
        "first_name": clean_name(pl.col("first")),
        **split_full_name(pl.col("full"), "last_comma_first"),
        "address": standard_address(pl.col("address")),
        "race_ethnicity": pl.col("RACE").replace_strict({"1": "HISPANIC", "4": "BLACK"}, default=None)
        .fill_null("UNKNOWN"),
        "nothing": pl.lit(None, pl.String),
    }
    expected = frame.select(**exprs)
    assert select_by_distinct(frame, exprs).equals(expected)
    assert expected["race_ethnicity"][1] == "UNKNOWN"  # a null input has a result of its own


def test_select_by_distinct_on_an_empty_frame_keeps_the_columns():
    frame = pl.DataFrame({"first": []}, schema={"first": pl.String})
    out = select_by_distinct(frame, {"first_name": clean_name(pl.col("first"))})
    assert out.columns == ["first_name"] and out.height == 0


def test_a_value_cache_carries_results_across_drops_without_changing_them():
    from hub_assets.sources.distinct import ValueCache

    exprs = {"first_name": clean_name(pl.col("first")), "address": standard_address(pl.col("address"))}
    first = pl.DataFrame({"first": ["Ann", None, "Bob"], "address": ["1 Oak Street", None, "1 Oak Street"]})
    second = pl.DataFrame({"first": ["Bob", "Cy", None], "address": ["2 Elm Avenue", "1 Oak Street", None]})
    cache = ValueCache()
    for frame in (first, second):
        assert select_by_distinct(frame, exprs, cache, name="test").equals(frame.select(**exprs))
    # The second drop computed only what the first had not: Cy and 2 Elm Avenue.
    table = cache._tables[("test:first_name", ("first",))]
    assert sorted(table["first"].to_list(), key=str) == sorted(["Ann", None, "Bob", "Cy"], key=str)
