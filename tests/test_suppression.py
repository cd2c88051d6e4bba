"""Disclosure control: the one suppression mechanism every public table passes through."""

import random

import polars as pl
import pytest

from hub_assets.disclosure.margins import TOTAL, PublishSpec
from hub_assets.disclosure.suppression import min_cell_size, publish
from hub_assets.disclosure.table_checks import recoverable_suppressed, small_counts_visible

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
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C"], "participants": [0, 40, 60],
                         "enrolled_youth": [7, 80, 100], "participation_rate": [0.0, 0.5, 0.6]})
    table = publish(mart, BY_NEIGHBOURHOOD, 10, "test")
    a = _row(table, neighbourhood="A")
    assert a["enrolled_youth_suppressed"] and a["participation_rate"] is None and a["participation_rate_suppressed"]
    assert _row(table, neighbourhood="C")["participation_rate"] == pytest.approx(0.6)


def test_one_suppressed_cell_next_to_a_total_takes_the_next_smallest_with_it():
    mart = pl.DataFrame({"neighbourhood": ["A", "B", "C", "D"], "participants": [4, 25, 12, 90],
                         "enrolled_youth": [200, 200, 200, 200], "participation_rate": [0.02, 0.125, 0.06, 0.45]})
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


# --- part and whole: a count published beside a count of a subset of its people -------------------

CROSSOVER = {"dimensions": ["group_value"], "counts": ["child_welfare_youth", "crossover_youth"],
             "parts": {"child_welfare_youth": ["crossover_youth"]}}


def test_a_part_beside_its_whole_never_shows_a_small_difference_in_one_row():
    spec = PublishSpec.from_meta({**CROSSOVER, "totals": []}, "test")
    table = publish(pl.DataFrame({"group_value": ["A"], "child_welfare_youth": [19], "crossover_youth": [16]}),
                    spec, 10, "test")
    row = _row(table, group_value="A")
    assert row["child_welfare_youth"] == 19 and row["crossover_youth"] is None  # 19 - 16 = 3 not readable
    assert recoverable_suppressed(table, spec, 10) == []


def test_a_small_difference_inside_a_table_with_margins_is_protected():
    spec = PublishSpec.from_meta(CROSSOVER, "test")
    mart = pl.DataFrame({"group_value": ["A", "B", "C"], "child_welfare_youth": [19, 40, 50],
                         "crossover_youth": [16, 20, 22]})
    table = publish(mart, spec, 10, "test")
    a = _row(table, group_value="A")
    assert a["child_welfare_youth"] is None or a["crossover_youth"] is None
    assert small_counts_visible(table, spec, 10) == []
    assert recoverable_suppressed(table, spec, 10) == []
    assert _row(table, group_value=TOTAL)["child_welfare_youth"] == 109  # totals still from raw cells


def test_hiding_the_part_cascades_so_the_total_row_does_not_give_it_back():
    # Only A's difference is small (19 - 16 = 3); every count is above the threshold. Hiding
    # crossover A alone would leave it, and so the 3, as total - B - C.
    spec = PublishSpec.from_meta(CROSSOVER, "test")
    mart = pl.DataFrame({"group_value": ["A", "B", "C"], "child_welfare_youth": [19, 60, 70],
                         "crossover_youth": [16, 30, 25]})
    table = publish(mart, spec, 10, "test")
    only_a = pl.col("group_value") == "A"
    raw = publish(mart, spec, 0, "test")  # threshold 0: nothing hidden
    naive = raw.with_columns(pl.when(only_a).then(None).otherwise(pl.col("crossover_youth")).alias("crossover_youth"),
                             only_a.alias("crossover_youth_suppressed"))
    problems = recoverable_suppressed(naive, spec, 10)
    assert "suppressed crossover_youth at group_value=A can be recovered from the margins (it is 16)" in problems
    assert "child_welfare_youth - crossover_youth at group_value=A is 3 (threshold 10), recoverable from the margins" \
        in problems
    hidden = table.filter(pl.col("crossover_youth_suppressed"))["group_value"].to_list()
    assert hidden == ["A", "C"]  # the complementary cell: C (25), the smallest left
    assert recoverable_suppressed(table, spec, 10) == []


def test_a_part_of_two_wholes_is_protected_against_both():
    spec = PublishSpec.from_meta({"dimensions": ["group_value"],
                                  "counts": ["child_welfare_youth", "juvenile_services_youth", "crossover_youth"],
                                  "rates": {"share_cw": ["crossover_youth", "child_welfare_youth"],
                                            "share_js": ["crossover_youth", "juvenile_services_youth"]}}, "test")
    assert spec.parts == (("child_welfare_youth", "crossover_youth"), ("juvenile_services_youth", "crossover_youth"))
    mart = pl.DataFrame({"group_value": ["A", "B", "C", "D"], "child_welfare_youth": [40, 19, 80, 90],
                         "juvenile_services_youth": [22, 60, 45, 95], "crossover_youth": [20, 16, 30, 41],
                         "share_cw": [0.5, 0.84, 0.375, 0.456], "share_js": [0.91, 0.27, 0.67, 0.43]})
    table = publish(mart, spec, 10, "test")
    assert small_counts_visible(table, spec, 10) == []
    assert recoverable_suppressed(table, spec, 10) == []
    for gv in ("A", "B"):  # 22 - 20 and 19 - 16 are both small
        row = _row(table, group_value=gv)
        assert row["crossover_youth"] is None and row["share_cw"] is None and row["share_js"] is None


@pytest.mark.parametrize("seed", range(10))
def test_random_tables_with_nested_parts_leave_nothing_small_or_recoverable(seed):
    rng = random.Random(seed)
    rows = []
    for n in [f"N{i}" for i in range(rng.randint(2, 5))]:
        for s in ["F", "M"]:
            whole = rng.choice([0, 3, 12, 15, 19, 25, 40, 80])
            part = max(0, whole - rng.choice([0, 1, 2, 3, 5, 9, 12, 30]))
            sub = max(0, part - rng.choice([0, 1, 4, 11, 20]))
            rows.append({"neighbourhood": n, "sex": s, "whole": whole, "part": part, "sub": sub,
                         "other": rng.choice([0, 2, 14, 50])})
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood", "sex"], "counts": ["whole", "part", "sub", "other"],
                                  "parts": {"whole": ["part", "sub"], "part": ["sub"]}}, "test")
    table = publish(pl.DataFrame(rows), spec, 10, "test")
    assert small_counts_visible(table, spec, 10) == []
    assert recoverable_suppressed(table, spec, 10) == []
    alone = publish(pl.DataFrame(rows).select("neighbourhood", "sex", "other"),
                    PublishSpec.from_meta({"dimensions": ["neighbourhood", "sex"], "counts": ["other"]}, "t"), 10, "t")
    assert table["other_suppressed"].to_list() == alone["other_suppressed"].to_list()  # unrelated: unchanged


def test_tables_without_relations_are_suppressed_column_by_column_as_before():
    rng = random.Random(7)
    rows = [{"neighbourhood": f"N{i}", "sex": s, "p": rng.choice([0, 2, 9, 14, 30]), "q": rng.choice([1, 12, 40])}
            for i in range(5) for s in ["F", "M"]]
    together = publish(pl.DataFrame(rows), PublishSpec.from_meta(
        {"dimensions": ["neighbourhood", "sex"], "counts": ["p", "q"]}, "t"), 10, "t")
    for column in ("p", "q"):
        alone = publish(pl.DataFrame(rows).select("neighbourhood", "sex", column), PublishSpec.from_meta(
            {"dimensions": ["neighbourhood", "sex"], "counts": [column]}, "t"), 10, "t")
        assert together[f"{column}_suppressed"].to_list() == alone[f"{column}_suppressed"].to_list()


def test_a_part_greater_than_its_whole_names_the_mart_row_and_columns():
    spec = PublishSpec.from_meta(CROSSOVER, "test")
    mart = pl.DataFrame({"group_value": ["A", "B"], "child_welfare_youth": [19, 12], "crossover_youth": [16, 13]})
    with pytest.raises(ValueError, match=r"mart m: row 2 \(group_value=B\) has crossover_youth=13 greater than "
                                         r"child_welfare_youth=12"):
        publish(mart, spec, 10, "mart m")
    with pytest.raises(ValueError, match=r"meta.publish.parts.child_welfare_youth names \['youth'\]"):
        PublishSpec.from_meta({**CROSSOVER, "parts": {"child_welfare_youth": ["youth"]}}, "test")
