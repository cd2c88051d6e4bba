"""Disclosure control: the one suppression mechanism every public table passes through."""

import random

import polars as pl
import pytest

from hub_assets.privacy.disclosure import recoverable_suppressed, small_counts_visible
from hub_assets.privacy.margins import TOTAL, PublishSpec
from hub_assets.privacy.suppression import min_cell_size, publish

BY_NEIGHBOURHOOD = PublishSpec.from_meta({
    "dimensions": ["neighbourhood"], "counts": ["participants", "enrolled_youth"],
    "rates": {"participation_rate": ["participants", "enrolled_youth"]}}, "test")


def _row(table: pl.DataFrame, **dims) -> dict:
    match = table.filter(pl.all_horizontal(pl.col(d) == v for d, v in dims.items()))
    assert match.height == 1, dims
    return match.row(0, named=True)


def test_small_counts_are_null_with_a_flag_and_zero_is_shown():
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C", "D"], "participants": [5, 40, 0, 60],
                         "enrolled_youth": [50, 80, 30, 100], "participation_rate": [0.1, 0.5, 0.0, 0.6]})
    table = publish(mart, BY_NEIGHBOURHOOD, 10, "test")
    a, c = _row(table, neighbourhood="A"), _row(table, neighbourhood="C")
    assert a["participants"] is None and a["participants_suppressed"] is True
    assert c["participants"] == 0 and c["participants_suppressed"] is False


def test_a_rate_on_a_suppressed_count_is_suppressed():
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C"], "participants": [20, 40, 60],
                         "enrolled_youth": [7, 80, 100], "participation_rate": [2.857, 0.5, 0.6]})
    table = publish(mart, BY_NEIGHBOURHOOD, 10, "test")
    a = _row(table, neighbourhood="A")
    assert a["enrolled_youth_suppressed"] and a["participation_rate"] is None and a["participation_rate_suppressed"]
    assert _row(table, neighbourhood="C")["participation_rate"] == pytest.approx(0.6)


def test_one_suppressed_cell_next_to_a_total_takes_the_next_smallest_with_it():
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C", "D"], "participants": [4, 25, 12, 90],
                         "enrolled_youth": [100, 100, 100, 100], "participation_rate": [0.04, 0.25, 0.12, 0.9]})
    table = publish(mart, BY_NEIGHBOURHOOD, 10, "test")
    hidden = table.filter(pl.col("participants_suppressed"))["neighbourhood"].to_list()
    assert hidden == ["A", "C"]  # C (12) is the smallest non-zero cell left, not B (25)
    assert _row(table, neighbourhood=TOTAL)["participants"] == 4 + 25 + 12 + 90  # totals from raw cells
    assert recoverable_suppressed(table, BY_NEIGHBOURHOOD) == []


def test_two_ones_under_a_visible_total_are_protected():
    # A and B are both 1: their sum (total - visible) is 2, which pins each of them to 1.
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood"], "counts": ["n"]}, "test")
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C", "D"], "n": [1, 1, 30, 40]})
    table = publish(mart, spec, 10, "test")
    assert table.filter(pl.col("n_suppressed")).height == 3
    assert recoverable_suppressed(table, spec) == []


def test_two_way_table_is_protected_along_rows_and_columns():
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood", "sex"], "counts": ["n"]}, "test")
    mart = pl.DataFrame({"neighbourhood": ["A", "A", "B", "B", "C", "C"], "sex": ["F", "M"] * 3,
                         "n": [3, 20, 30, 40, 50, 60]})
    table = publish(mart, spec, 10, "test")
    assert small_counts_visible(table, spec, 10) == []
    assert recoverable_suppressed(table, spec) == []
    # The row (A), and column (F) of the small cell each lose a second cell.
    assert table.filter(pl.col("n_suppressed")).height >= 4
    assert _row(table, neighbourhood=TOTAL, sex=TOTAL)["n"] == 203


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_leave_nothing_small_or_recoverable(seed):
    rng = random.Random(seed)
    dims = {"neighbourhood": [f"N{i}" for i in range(rng.randint(2, 6))], "sex": ["F", "M"],
            "age_band": ["10-13", "14-17", "18-24"][: rng.randint(1, 3)]}
    rows = [{"neighbourhood": n, "sex": s, "age_band": a, "n": rng.choice([0, 1, 2, 5, 9, 11, 14, 30, 80])}
            for n in dims["neighbourhood"] for s in dims["sex"] for a in dims["age_band"]]
    spec = PublishSpec.from_meta({"dimensions": list(dims), "counts": ["n"]}, "test")
    table = publish(pl.DataFrame(rows), spec, 10, "test")
    assert small_counts_visible(table, spec, 10) == []
    assert recoverable_suppressed(table, spec) == []


def test_threshold_comes_from_governance_and_env_overrides_it(monkeypatch):
    monkeypatch.delenv("HUB_MIN_CELL_SIZE", raising=False)
    assert min_cell_size() == 10  # governance.yaml disclosure.min_cell_size
    monkeypatch.setenv("HUB_MIN_CELL_SIZE", "5")
    assert min_cell_size() == 5
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood"], "counts": ["n"], "totals": []}, "test")
    table = publish(pl.DataFrame({"neighbourhood": ["A", "B"], "n": [7, 3]}), spec, min_cell_size(), "test")
    assert table["n"].to_list() == [7, None]


def test_bad_mart_input_names_the_mart_column_and_row():
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood"], "counts": ["n"]}, "test")
    with pytest.raises(ValueError, match=r"mart m: count column 'n' is NULL in row 2"):
        publish(pl.DataFrame({"neighbourhood": ["A", "B"], "n": [12, None]}), spec, 10, "mart m")
    with pytest.raises(ValueError, match=r"mart m: columns \['n'\] are declared"):
        publish(pl.DataFrame({"neighbourhood": ["A"], "x": [1]}), spec, 10, "mart m")
    with pytest.raises(ValueError, match="more than one row"):
        publish(pl.DataFrame({"neighbourhood": ["A", "A"], "n": [12, 13]}), spec, 10, "mart m")


def test_time_and_stacking_dimensions_get_no_totals_by_default():
    spec = PublishSpec.from_meta({"dimensions": ["summer_year", "dimension", "group_value"],
                                  "counts": ["n"]}, "test")
    assert spec.totalled == ("group_value",)
    mart = pl.DataFrame({"summer_year": [2024] * 4, "dimension": ["sex", "sex", "age", "age"],
                         "group_value": ["F", "M", "10-13", "14-17"], "n": [20, 30, 15, 35]})
    table = publish(mart, spec, 10, "test")
    totals = table.filter(pl.col("group_value") == TOTAL).sort("dimension")
    assert totals["n"].to_list() == [50, 50]  # one total per stacked dimension, never across them
