"""``hub link``: any CSV/Parquet files of standard identity records in, record_id,person_key out."""

import polars as pl
import pytest
from click.testing import CliRunner
from linkage_people import people

from hub_assets.cli import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("link")
    records, truth = people(120, seed=3)
    records = records.drop("record_token", "drop_id", "race_ethnicity")
    half = records.height // 2
    csv_path, parquet_path = folder / "schools.csv", folder / "shelters.parquet"
    records.head(half).write_csv(csv_path)
    records.tail(records.height - half).drop("address", "sex").write_parquet(parquet_path)  # missing columns
    return folder, records, truth, csv_path, parquet_path


def _run(*args):
    return CliRunner().invoke(main, ["link", *map(str, args)])


@pytest.mark.parametrize("out_name", ["people.csv", "people.parquet"])
def test_links_csv_and_parquet_inputs_into_one_row_per_record(inputs, out_name):
    folder, records, truth, csv_path, parquet_path = inputs
    result = _run(csv_path, parquet_path, "--out", folder / out_name)
    assert result.exit_code == 0, result.output
    out = (pl.read_csv(folder / out_name) if out_name.endswith(".csv")
           else pl.read_parquet(folder / out_name))
    assert out.columns == ["record_id", "person_key"]
    assert sorted(out["record_id"]) == sorted(records["record_id"])
    assert out["person_key"].null_count() == 0
    # the people found mostly agree with the truth: records of one true person share a key
    labelled = out.join(truth, on="record_id")
    pure = labelled.group_by("person_key").agg(pl.col("person_id").n_unique().alias("n"))
    assert (pure["n"] == 1).mean() > 0.95
    assert out["person_key"].n_unique() < out.height  # some records were linked


def test_unknown_extension_is_a_clear_error(inputs, tmp_path):
    bad = tmp_path / "records.xlsx"
    bad.write_text("record_id\n1\n")
    result = _run(bad, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0 and "records.xlsx" in result.output and ".csv or .parquet" in result.output


def test_missing_record_id_column_names_the_file(tmp_path):
    path = tmp_path / "no_id.csv"
    pl.DataFrame({"first_name": ["A"], "last_name": ["B"]}).write_csv(path)
    result = _run(path, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0 and "no_id.csv" in result.output and "record_id" in result.output


def test_duplicate_record_ids_across_inputs_are_refused(inputs, tmp_path):
    _, _, _, csv_path, _ = inputs
    result = _run(csv_path, csv_path, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0 and "duplicated" in result.output


def test_unreadable_parquet_is_an_error_naming_the_file(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet at all")
    result = _run(broken, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0 and "broken.parquet" in result.output and "cannot be read" in result.output


def test_duplicate_record_id_within_a_source_names_file_row_and_column(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("record_id,first_name\n1,ANA\n2,BO\n1,CY\n")
    result = _run(path, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0
    assert "schools.csv: row 3, column record_id" in result.output and "row 1" in result.output


def test_empty_record_id_names_file_row_and_column(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("record_id,first_name\n1,ANA\n,BO\n")
    result = _run(path, "--out", tmp_path / "o.csv")
    assert result.exit_code != 0 and "schools.csv: row 2, column record_id" in result.output


def test_one_record_id_in_two_sources_is_two_records(tmp_path):
    # Each agency numbers its own records: the same id in two files is not a duplicate.
    a, b = tmp_path / "schools.csv", tmp_path / "shelters.csv"
    a.write_text("record_id,first_name,last_name,dob\n1,ANA,LI,2010-01-02\n2,BO,WU,2011-03-04\n")
    b.write_text("record_id,first_name,last_name,dob\n1,ANA,LI,2010-01-02\n")
    result = _run(a, b, "--out", tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    out = pl.read_csv(tmp_path / "o.csv", infer_schema=False)
    assert out.columns == ["source", "record_id", "person_key"]
    assert sorted(out.select(pl.concat_str("source", "record_id")).to_series()) == ["schools1", "schools2", "shelters1"]


def test_unparseable_values_become_null_are_counted_and_listed_by_row(inputs, tmp_path):
    _, records, _, _, _ = inputs
    bad = records.with_columns(pl.lit(None, pl.String).alias("ssn")).with_row_index("i").with_columns(
        pl.when(pl.col("i") == 3).then(pl.lit("2011-02-30"))      # impossible date
        .when(pl.col("i") == 5).then(pl.lit("02/01/2010"))        # not YYYY-MM-DD
        .otherwise(pl.col("dob").cast(pl.String)).alias("dob"),
        pl.when(pl.col("i") == 7).then(pl.lit("9021")).otherwise(pl.col("zip")).alias("zip"),
        pl.when(pl.col("i") == 9).then(pl.lit("12-345")).otherwise(pl.col("ssn")).alias("ssn"),
    ).drop("i")
    path = tmp_path / "mixed.csv"
    bad.write_csv(path)
    result = CliRunner().invoke(main, ["link", str(path), "--out", str(tmp_path / "people.csv")])
    assert result.exit_code == 0, result.output
    assert "dob 2" in result.output and "zip 1" in result.output and "ssn 1" in result.output
    report = pl.read_csv(tmp_path / "people.bad_values.csv", infer_schema=False)
    listed = sorted(zip(report["row"], report["column"], report["value"]))
    assert listed == [("10", "ssn", "12-345"), ("4", "dob", "2011-02-30"), ("6", "dob", "02/01/2010"),
                      ("8", "zip", "9021")]
    assert set(report["file"]) == {str(path)}
    out = pl.read_csv(tmp_path / "people.csv", infer_schema=False)
    assert sorted(out["record_id"]) == sorted(records["record_id"].cast(pl.String))  # every record
    assert out["person_key"].null_count() == 0
