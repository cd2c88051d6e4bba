"""``hub link INPUT... --out OUTPUT``: link files of standard-schema identity records.

Uses the hub's own settings and trains a model on the inputs (no identity store involved).
Each input is CSV or Parquet with at least ``record_id``; other standard columns
(first_name, middle_name, last_name, dob, sex, address, zip, ssn, source) are optional and null when
absent. ``record_id`` must be unique across all inputs. Output: ``record_id,person_key``, one
row per input record (singletons included), CSV or Parquet by the output's extension.
"""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from hub_assets.linkage.keys import carry_forward
from hub_assets.linkage.pipeline import full_relink, train_model
from hub_assets.linkage.prepare import prepare_records

STANDARD_COLUMNS = ("source", "record_id", "first_name", "middle_name", "last_name", "dob",
                    "sex", "address", "zip", "ssn")
FORMATS = {".csv", ".parquet"}


def link_files(inputs: list[Path], out: Path) -> None:
    if out.suffix.lower() not in FORMATS:
        raise click.ClickException(f"{out}: output must end in .csv or .parquet")
    records = pl.concat([read_input(path) for path in inputs], how="vertical")
    duplicated = records.filter(pl.col("record_id").is_duplicated())["record_id"].unique().sort()
    if duplicated.len():
        raise click.ClickException(
            f"record_id must be unique across inputs; duplicated: {', '.join(duplicated.head(5))}"
            f"{' ...' if duplicated.len() > 5 else ''} (in {_files_with(records, duplicated)})")
    result = link_records(records)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.write_csv(out)
    else:
        result.write_parquet(out)
    click.echo(f"linked {records.height:,} records into {result['person_key'].n_unique():,} "
               f"people -> {out}")


def link_records(records: pl.DataFrame) -> pl.DataFrame:
    """record_id, person_key for standard-schema records (record_id used as the token)."""
    standard = records.with_columns(pl.col("record_id").alias("record_token"))
    prepared = prepare_records(standard)
    if prepared.height < 2:
        keys, _ = carry_forward(_no_keys(), prepared.select(
            pl.col("unique_id").alias("record_token"), pl.col("unique_id").alias("cluster_id")))
    else:
        model, linker = train_model(prepared)
        keys = full_relink(prepared, model, _no_keys(), linker=linker).keys
    return (records.select("record_id").join(keys, left_on="record_id", right_on="record_token",
                                             how="left", maintain_order="left"))


def read_input(path: Path) -> pl.DataFrame:
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
    if frame["record_id"].null_count():
        row = frame.with_row_index("row")["row"].filter(frame["record_id"].is_null())[0] + 1
        raise click.ClickException(f"{path}: row {row}: record_id is empty")
    missing = [c for c in STANDARD_COLUMNS if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None, pl.String).alias(c) for c in missing])
    frame = frame.with_columns(pl.col("source").fill_null(path.stem))
    casts = [pl.col(c).cast(pl.String) for c in STANDARD_COLUMNS if c != "dob"]
    dob = pl.col("dob")
    if frame.schema["dob"] in (pl.String, pl.Null):
        dob = dob.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        bad = frame.with_row_index("row").filter(dob.is_null() & pl.col("dob").is_not_null()
                                                 & (pl.col("dob").str.strip_chars() != ""))
        if bad.height:
            raise click.ClickException(f"{path}: row {bad['row'][0] + 1}, column dob: "
                                       "not a date in YYYY-MM-DD form")
    frame = frame.select(*casts, dob.cast(pl.Date).alias("dob"), pl.lit(str(path)).alias("_file"))
    return frame.select(*STANDARD_COLUMNS, "_file")


def _files_with(records: pl.DataFrame, ids: pl.Series) -> str:
    return ", ".join(records.filter(pl.col("record_id").is_in(ids.implode()))["_file"].unique().sort())


def _no_keys() -> pl.DataFrame:
    return pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String})
