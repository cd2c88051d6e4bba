"""``hub link INPUT... --out OUTPUT``: link files of standard-schema identity records.

Uses the hub's own settings and trains a model on the inputs (no identity store involved).
Each input is CSV or Parquet with at least ``record_id``; other standard columns
(first_name, middle_name, last_name, dob, sex, address, zip, ssn, source) are optional and null when
absent. ``source`` defaults to the file's name (without extension). Output: ``record_id,person_key``,
one row per input record (singletons included), CSV or Parquet by the output's extension; when one
record_id is used by two sources, a leading ``source`` column tells their rows apart.

Structural problems stop the run with an error naming the file, row and column: an unreadable
file, a missing ``record_id`` column or an empty record_id, a record_id twice within one source.
A value that cannot be parsed (a date that is not a real YYYY-MM-DD date, a ZIP that is not five
digits or ZIP+4, an SSN that is not nine digits, a sex that is not M, F or X) is not structural: it
becomes null for linkage, the count per column is printed as a warning and each one is listed
by file, row and column in ``OUTPUT.bad_values.csv`` beside the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import polars as pl
from splink.internals.exceptions import SplinkException

from hub_assets.linkage.keys import carry_forward
from hub_assets.linkage.pipeline import Relink, full_relink, train_model
from hub_assets.linkage.prepare import prepare_records
from hub_assets.linkage.refusals import rule_evidence
from hub_assets.linkage.starter import STARTER_MODEL
from hub_assets.linkage.train import load_model, make_linker

STANDARD_COLUMNS = ("source", "record_id", "first_name", "middle_name", "last_name", "dob",
                    "sex", "address", "zip", "ssn")
FORMATS = {".csv", ".parquet"}
ROW = "_row"  # 1-based data row in its file (the header is not counted)
FILE = "_file"
BAD_VALUES_SCHEMA = {"file": pl.String, "row": pl.Int64, "record_id": pl.String, "column": pl.String,
                     "value": pl.String, "problem": pl.String}
SEX = {"M": "M", "F": "F", "X": "X", "MALE": "M", "FEMALE": "F"}


@dataclass
class LinkResult:
    people: pl.DataFrame  # [source,] record_id, person_key: one row per input record
    bad_values: pl.DataFrame  # BAD_VALUES_SCHEMA: values set to null for linkage
    relink: Relink | None  # pairs, clusters, refused links (None for fewer than two records)
    tokens: pl.DataFrame  # record_token, source, record_id


def link_files(inputs: list[Path], out: Path) -> LinkResult:
    if out.suffix.lower() not in FORMATS:
        raise click.ClickException(f"{out}: output must end in .csv or .parquet")
    records = pl.concat([read_input(path) for path in inputs], how="vertical")
    _refuse_duplicates(records)
    records, bad = clean_values(records)
    result = link_records(records, bad)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.people.write_csv(out)
    else:
        result.people.write_parquet(out)
    if bad.height:
        report = bad_values_path(out)
        bad.write_csv(report)
        counts = ", ".join(f"{column} {n:,}" for column, n in
                           bad.group_by("column").len().sort("column").iter_rows())
        click.echo(f"warning: {bad.height:,} value(s) could not be parsed and were set to null for "
                   f"linkage ({counts}); listed by row in {report}", err=True)
    click.echo(f"linked {records.height:,} records into {result.people['person_key'].n_unique():,} "
               f"people -> {out}")
    return result


def bad_values_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.bad_values.csv")


def link_records(records: pl.DataFrame, bad_values: pl.DataFrame | None = None,
                 policy: dict[str, str] | None = None) -> LinkResult:
    """Link standard-schema records (clean_values already applied): one person key per record.
    ``policy``: refusal rule -> on/off/auto (refusals.py; default governance.yaml)."""
    tokens = records.select(pl.int_range(pl.len()).cast(pl.String).alias("record_token"),
                            "source", "record_id")
    standard = records.with_columns(tokens["record_token"])
    prepared = prepare_records(standard)
    relink = None
    if prepared.height < 2:
        keys, _ = carry_forward(_no_keys(), prepared.select(
            pl.col("unique_id").alias("record_token"), pl.col("unique_id").alias("cluster_id")))
    else:
        evidence = rule_evidence(prepared, policy)  # tested once: for training and for clustering
        try:
            model, linker = train_model(prepared, policy=policy, evidence=evidence)
        except (ValueError, SplinkException) as error:  # too little evidence to train on
            click.echo(f"warning: the model could not be trained on {prepared.height:,} records "
                       f"({str(error).splitlines()[0]}); linking with the starter model", err=True)
            model = load_model(STARTER_MODEL)
            linker = make_linker(prepared, model)
        relink = full_relink(prepared, model, _no_keys(), linker=linker, evidence=evidence)
        keys = relink.keys
    people = tokens.join(keys, on="record_token", how="left", maintain_order="left")
    shared = people.group_by("record_id").agg(pl.col("source").n_unique().alias("n")).filter(pl.col("n") > 1)
    people = people.select(*(["source"] if shared.height else []), "record_id", "person_key")
    bad = bad_values if bad_values is not None else pl.DataFrame(schema=BAD_VALUES_SCHEMA)
    return LinkResult(people, bad, relink, tokens)


def read_input(path: Path) -> pl.DataFrame:
    """One input file as strings in the standard columns, with its file name and row numbers."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise click.ClickException(f"{path}: unknown file type {path.suffix!r}; use .csv or .parquet")
    try:
        frame = (pl.read_csv(path, infer_schema=False) if suffix == ".csv"
                 else pl.read_parquet(path))
    except Exception as error:  # noqa: BLE001 - any read failure is reported the same way
        raise click.ClickException(f"{path}: cannot be read as {suffix[1:]}: {error}") from error
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "record_id" not in frame.columns:
        raise click.ClickException(f"{path}: has no record_id column (columns: {', '.join(frame.columns)})")
    frame = frame.with_row_index(ROW, offset=1)
    record_id = pl.col("record_id").cast(pl.String).str.strip_chars()
    empty = frame.filter(record_id.is_null() | (record_id == ""))
    if empty.height:
        raise click.ClickException(f"{path}: row {empty[ROW][0]}, column record_id: empty")
    missing = [c for c in STANDARD_COLUMNS if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None, pl.String).alias(c) for c in missing])
    # Dates read from Parquet as dates are kept; text is parsed in clean_values.
    dob = pl.col("dob")
    if frame.schema["dob"] in (pl.Date, pl.Datetime):
        dob = dob.cast(pl.Date).dt.strftime("%Y-%m-%d")
    frame = frame.with_columns(dob.alias("dob"))
    texts = [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in STANDARD_COLUMNS]
    frame = frame.select(*texts, pl.col(ROW).cast(pl.Int64), pl.lit(str(path)).alias(FILE))
    return frame.with_columns(pl.col("source").fill_null(path.stem))


def _refuse_duplicates(records: pl.DataFrame) -> None:
    """A record_id twice within one source is structural: which record is which is unknown."""
    repeated = (records.with_columns(pl.len().over("source", "record_id").alias("_n"))
                .filter(pl.col("_n") > 1).sort("source", "record_id", FILE, ROW))
    if not repeated.height:
        return
    first = repeated.row(0, named=True)
    second = repeated.filter((pl.col("source") == first["source"])
                             & (pl.col("record_id") == first["record_id"])).row(1, named=True)
    n = repeated.select("source", "record_id").n_unique()
    raise click.ClickException(
        f"{second[FILE]}: row {second[ROW]}, column record_id: {first['record_id']!r} duplicated "
        f"within source {first['source']!r} (first at {first[FILE]} row {first[ROW]}); "
        f"{n:,} record_id(s) duplicated in all")


# Each linkage column: (parsed value, or null when the text cannot be parsed; problem text).
def _parsers() -> dict[str, tuple[pl.Expr, str]]:
    zip_digits = pl.col("zip").str.replace_all(r"[\s-]", "")
    ssn_digits = pl.col("ssn").str.replace_all(r"[\s-]", "")
    return {
        "dob": (pl.col("dob").str.to_date("%Y-%m-%d", strict=False).dt.strftime("%Y-%m-%d"),
                "not a real date in YYYY-MM-DD form"),
        "zip": (pl.when(zip_digits.str.contains(r"^(\d{5}|\d{9})$")).then(zip_digits.str.slice(0, 5)),
                "not a 5-digit ZIP or ZIP+4"),
        "ssn": (pl.when(ssn_digits.str.contains(r"^\d{9}$")).then(ssn_digits), "not nine digits"),
        "sex": (pl.col("sex").str.to_uppercase().replace_strict(SEX, default=None),
                "not M, F or X"),
    }


def clean_values(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Unparseable values -> null (for linkage only), and a row-by-row list of them."""
    bad, parsed = [], []
    for column, (expr, problem) in _parsers().items():
        value = expr.alias(column)
        failed = records.filter(pl.col(column).is_not_null() & records.select(value)[column].is_null())
        bad.append(failed.select(pl.col(FILE).alias("file"), pl.col(ROW).alias("row"), "record_id",
                                 pl.lit(column).alias("column"), pl.col(column).alias("value"),
                                 pl.lit(problem).alias("problem")))
        parsed.append(value)
    cleaned = records.with_columns(parsed).with_columns(pl.col("dob").str.to_date("%Y-%m-%d"))
    report = pl.concat(bad).sort("file", "row", "column") if bad else pl.DataFrame(schema=BAD_VALUES_SCHEMA)
    return cleaned, report.cast(BAD_VALUES_SCHEMA)


def _no_keys() -> pl.DataFrame:
    return pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String})
