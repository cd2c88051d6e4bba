"""``hub evaluate`` end to end on a small city linked for real: the sample sheet a reviewer
fills, and estimates that agree with the city's truth."""

import json
import stat

import duckdb
import polars as pl
from click.testing import CliRunner
from linkage_people import people, write_identity_db

from hub_assets.cli import main
from hub_assets.linkage.operations import LinkagePaths, link, report_quality
from hub_assets.linkage.settings import MATCH_THRESHOLD
from hub_assets.settings import HubPaths, private_files


def _linked_city(data_dir):
    """A small city linked in full (real Splink training); its truth by record_token."""
    records, truth = people(200, seed=9)
    paths = HubPaths(data_dir)
    write_identity_db(paths.identity_db, records)
    with private_files(), duckdb.connect(str(paths.identity_db)) as con:
        link(con, LinkagePaths.of(paths), "full")
    tokens = records.select("record_token", "source", "record_id").join(truth, on=["source", "record_id"])
    return paths, tokens.select("record_token", "person_id")


def _true_precision_recall(paths, truth, threshold):
    with duckdb.connect(str(paths.identity_db), read_only=True) as con:
        pairs = con.sql("select unique_id_l, unique_id_r, match_probability from linkage_pairs").pl()
    person = dict(truth.iter_rows())
    links = pairs.filter(pl.col("match_probability") >= threshold)
    true_links = sum(person[a] == person[b] for a, b in links.select("unique_id_l", "unique_id_r").iter_rows())
    sizes = truth.group_by("person_id").len()["len"]
    return true_links / links.height, true_links / int((sizes * (sizes - 1) // 2).sum())


def test_hub_evaluate_from_a_reviewed_sample_and_from_labelled_records_agrees_with_truth(hub_data_dir, tmp_path):
    paths, truth = _linked_city(hub_data_dir)
    runner = CliRunner()
    drawn = runner.invoke(main, ["evaluate", "sample", "--per-band", "40", "--seed", "5"])
    assert drawn.exit_code == 0, drawn.output
    sheet_path = LinkagePaths.of(paths).labels / "sample-5.csv"
    assert stat.S_IMODE(sheet_path.stat().st_mode) == 0o600  # it holds identifiers
    sheet = pl.read_csv(sheet_path, infer_schema=False)
    assert sheet["is_match"].null_count() == sheet.height and "first_name_l" in sheet.columns
    again = runner.invoke(main, ["evaluate", "sample", "--per-band", "40", "--seed", "5"])
    assert again.exit_code != 0 and "may hold a reviewer's labels" in again.output

    # A stand-in reviewer answers from the truth, leaving the last pair unreviewed.
    person = dict(truth.iter_rows())
    answers = [("yes" if person[a] == person[b] else "no") for a, b in
               sheet.select("record_token_l", "record_token_r").iter_rows()]
    answers[-1] = ""
    sheet.with_columns(pl.Series("is_match", answers)).write_csv(sheet_path)
    result = runner.invoke(main, ["evaluate"])
    assert result.exit_code == 0, result.output
    assert f"sample-5.csv: {sheet.height - 1:,} labelled pairs" in result.output
    estimates = json.loads((paths.reports / "linkage" / "threshold.json").read_text())["estimates"]
    current = next(row for row in estimates if row["threshold"] == MATCH_THRESHOLD)
    precision, recall = _true_precision_recall(paths, truth, MATCH_THRESHOLD)
    assert current["precision_low"] <= precision <= current["precision_high"], (current, precision)
    assert current["labelled"] > 0 and current["links"] > current["labelled"]
    assert f"| {MATCH_THRESHOLD:g} (current) |" in result.output

    # No truth in this data directory: the quality report's error by group comes from the sheet.
    where = LinkagePaths.of(paths)
    with private_files(), duckdb.connect(str(paths.identity_db)) as con:
        quality = report_quality(con, where)
    assert "error_by_group" not in quality
    sources = quality["error_by_group_from_labels"]["source"]
    assert sum(group["labelled"] for group in sources.values()) >= sheet.height - 1
    assert "Linkage error by group (estimated from reviewed pairs)" in where.quality.read_text()

    # Labelled records (here the whole truth, by token): exact precision and true recall.
    truth_file = tmp_path / "truth.csv"
    truth.write_csv(truth_file)
    exact = runner.invoke(main, ["evaluate", "--labels", str(truth_file)])
    assert exact.exit_code == 0, exact.output
    estimates = json.loads((paths.reports / "linkage" / "threshold.json").read_text())["estimates"]
    current = next(row for row in estimates if row["threshold"] == MATCH_THRESHOLD)
    assert current["precision"] == current["precision_low"] == current["precision_high"]
    assert abs(current["precision"] - precision) < 1e-12
    assert abs(current["recall_labelled_records"] - recall) < 1e-12
    assert "recall, labelled records" in exact.output


    bad = tmp_path / "labels.csv"
    bad.write_text("left,right,answer\na,b,yes\n")
    refused = runner.invoke(main, ["evaluate", "--labels", str(bad)])
    assert refused.exit_code != 0 and "labels need record_token_l" in refused.output
