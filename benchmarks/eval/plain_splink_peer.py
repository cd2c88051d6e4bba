"""The peer ``hub link`` is measured against: a plain Splink 5 script, written the way Splink's own
FEBRL examples are (docs/demos/examples/duckdb/febrl3 and febrl4 in the Splink repository), given
the same files and columns ``hub link`` is given and nothing else.

- comparisons for each standard column the files carry: ``NameComparison`` with term
  frequencies for names, ``DateOfBirthComparison`` (invalid dates as null),
  ``DamerauLevenshteinAtThresholds`` for SSN, address and ZIP (term frequencies on the last two),
  exact match for sex;
- blocking rules on several fields: first + last name, names swapped, DOB, SSN, address, ZIP with
  the first letter of the surname (the examples block on the postcode alone; a city has a few
  dozen ZIPs, so it is narrowed as their text advises for larger data);
- prior from deterministic rules (SSN; first + last + DOB) at recall 0.8, u from 1e6 random pairs
  (as both examples run it), m by EM blocked on DOB and then on ZIP;
- one file: ``dedupe_only``; several: ``link_and_dedupe`` (``hub link`` is not told that a file
  holds each person once either); clusters by connected components at the threshold.

Run: ``python -m benchmarks.eval.plain_splink_peer OUT_DIR THRESHOLD[,THRESHOLD...] FILE...``:
trains and predicts once, then for each threshold writes ``people_T.parquet`` (record_id,
source, cluster_id) and ``links_T.parquet`` (record_id_l, source_l, record_id_r, source_r,
match_probability) to OUT_DIR.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import duckdb
import polars as pl
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

COLUMNS = ("first_name", "middle_name", "last_name", "dob", "sex", "address", "zip", "ssn")


def read(paths: list[Path]) -> pl.DataFrame:
    frames = []
    for path in paths:
        frame = pl.read_csv(path, infer_schema=False)
        if "source" not in frame.columns:
            frame = frame.with_columns(pl.lit(path.stem).alias("source"))
        frames.append(frame)
    records = pl.concat(frames, how="diagonal")
    texts = [pl.col(c).str.strip_chars().str.to_lowercase().replace("", None).alias(c)
             for c in COLUMNS if c in records.columns]
    return records.with_columns(texts).with_columns(
        pl.concat_str(["source", "record_id"], separator="|").alias("unique_id"))


def settings(records: pl.DataFrame, link_type: str) -> SettingsCreator:
    present = {c for c in COLUMNS if c in records.columns and records[c].null_count() < records.height}
    comparisons = []
    for name in ("first_name", "middle_name", "last_name"):
        if name in present:
            comparisons.append(cl.NameComparison(name).configure(term_frequency_adjustments=True))
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d",
                                                    invalid_dates_as_null=True))
    if "ssn" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("ssn", [1, 2]))
    if "sex" in present:
        comparisons.append(cl.ExactMatch("sex"))
    if "address" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("address", [1, 2])
                           .configure(term_frequency_adjustments=True))
    if "zip" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("zip", [1, 2])
                           .configure(term_frequency_adjustments=True))
    rules = [block_on("first_name", "last_name"),
             "l.first_name = r.last_name and l.last_name = r.first_name",
             block_on("dob"), block_on("ssn"), block_on("address"),
             block_on("zip", "substr(last_name, 1, 1)")]
    return SettingsCreator(unique_id_column_name="unique_id", link_type=link_type,
                           blocking_rules_to_generate_predictions=rules, comparisons=comparisons,
                           retain_matching_columns=False, retain_intermediate_calculation_columns=False)


def link(paths: list[Path], out: Path, thresholds: list[float]) -> None:
    records = read(paths)
    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    sources = records["source"].unique().sort().to_list()
    link_type = "dedupe_only" if len(sources) == 1 else "link_and_dedupe"
    frames = ([records] if len(sources) == 1
              else [records.filter(pl.col("source") == s) for s in sources])
    tables = []
    for i, frame in enumerate(frames):
        con.register(f"_in{i}", frame.drop("source", "record_id").to_arrow())
        con.execute(f"create table records_{i} as select * from _in{i}")
        tables.append(db_api.register(f"records_{i}"))
    linker = Linker(tables if len(tables) > 1 else tables[0], settings(records, link_type),
                    log_level=logging.WARNING)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("ssn"), block_on("first_name", "last_name", "dob")], recall=0.8)
    training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in (block_on("dob"), block_on("zip")):
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    ids = records.select("unique_id", "record_id", "source")
    out.mkdir(parents=True, exist_ok=True)
    for threshold in thresholds:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
        links = (con.sql(f"select unique_id_l, unique_id_r, match_probability from {predictions.physical_name} "
                         f"where match_probability >= {threshold}").pl()
                 .join(ids.rename({"unique_id": "unique_id_l", "record_id": "record_id_l", "source": "source_l"}),
                       on="unique_id_l")
                 .join(ids.rename({"unique_id": "unique_id_r", "record_id": "record_id_r", "source": "source_r"}),
                       on="unique_id_r"))
        people = (con.sql(f"select unique_id, cluster_id from {clusters.physical_name}").pl()
                  .join(ids, on="unique_id"))
        people.select("record_id", "source", "cluster_id").write_parquet(out / f"people_{threshold}.parquet")
        links.select("record_id_l", "source_l", "record_id_r", "source_r", "match_probability").write_parquet(
            out / f"links_{threshold}.parquet")


if __name__ == "__main__":
    link([Path(p) for p in sys.argv[3:]], Path(sys.argv[1]), [float(t) for t in sys.argv[2].split(",")])
