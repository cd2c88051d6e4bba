"""Assemble one agency's drops from its program rows, generically from its declaration.

Program rows (who, when, content) get record IDs per identity block, the identity the agency
recorded (with noise), the address that was true at the row's date (or a stale one), a few
planted bad rows (an impossible date, a missing required field) for the intake's quarantine,
and are then written as strings in the declared column order, delimiter and encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from hub_assets.sources.declaration import AgencySource, IdentityColumns
from hub_assets.synth import formatting as fmt
from hub_assets.synth.identity import assign_record_ids, noisy_identities
from hub_assets.synth.ssn import keyed_ssns

PROBLEM_RATE = 0.001


@dataclass
class AgencyDrops:
    files: dict[str, pl.DataFrame]  # file name -> string columns in declared order
    records: pl.DataFrame  # truth: source, record_id, person_id, drop_file, drop_files, noise
    rows: pl.DataFrame  # truth: agency, drop_file, row_number, record_id, person_id, <role>_person_id
    problems: pl.DataFrame  # truth: agency, drop_file, row_number, column, problem, value


def _person_col(block: IdentityColumns) -> str:
    return "person_id" if block.role == "person" else f"{block.role}_person_id"


def build_drops(agency: AgencySource, rows: pl.DataFrame, persons: pl.DataFrame, rng: np.random.Generator,
                noise_scale: float, case_habit: str, ssn_rng: np.random.Generator | None = None) -> AgencyDrops:
    records = []
    for block in agency.identities:
        pcol, p = _person_col(block), f"{block.role}__"
        rows = assign_record_ids(rows, pcol, rng, duplicates=block.role == "person").rename(
            {"record_id": f"{p}record_id", "is_duplicate_id": f"{p}dup"})
        ids = rows.select(pl.col(f"{p}record_id").alias("record_id"), pl.col(pcol).alias("person_id"),
                          pl.col(f"{p}dup").alias("is_duplicate_id")).unique("record_id", maintain_order=True)
        maiden = "maiden" in (block.last_name or "")
        ident = noisy_identities(ids, persons, agency.noise, noise_scale, rng, maiden)
        if block.ssn:
            ident = keyed_ssns(ident, persons, agency.noise, noise_scale, ssn_rng or rng)
        records.append(ident.select(pl.lit(agency.identity_source(block)).alias("source"), "record_id", "person_id",
                                    "noise"))
        rows = rows.join(ident.drop("person_id", "is_duplicate_id", "noise").rename(lambda c, p=p: p + c),
                         left_on=f"{p}record_id", right_on=f"{p}record_id", how="left", maintain_order="left")
        rows = _addresses_at(rows, persons, pcol, p)
    rows = rows.sort("drop_file", "person__record_id", "event_date", maintain_order=True).with_columns(
        row_number=pl.int_range(1, pl.len() + 1).over("drop_file"))

    strings = _format(agency, rows, rng, case_habit)
    strings, problems = _plant_problems(agency, rows, strings, rng, noise_scale)

    person_cols = [_person_col(b) for b in agency.identities]
    truth_rows = rows.select(pl.lit(agency.name).alias("agency"), "drop_file", "row_number",
                             pl.col("person__record_id").alias("record_id"), *person_cols)
    drops_per_record = pl.concat([
        rows.select(pl.lit(agency.identity_source(b)).alias("source"),
                    pl.col(f"{b.role}__record_id").alias("record_id"), "drop_file")
        for b in agency.identities
    ]).group_by("source", "record_id").agg(drop_file=pl.col("drop_file").min(),
                                          drop_files=pl.col("drop_file").unique().sort())
    truth_records = pl.concat(records).join(drops_per_record, on=["source", "record_id"], how="left")
    files = {name: strings.filter(rows["drop_file"] == name) for name in sorted(rows["drop_file"].unique())}
    return AgencyDrops(files, truth_records.select("source", "record_id", "person_id", "drop_file", "drop_files",
                                                   "noise"), truth_rows, problems)


def _addresses_at(rows: pl.DataFrame, persons: pl.DataFrame, pcol: str, p: str) -> pl.DataFrame:
    """The address the person had at the row's date, unless the agency holds a stale one."""
    home = persons.select(pl.col("person_id").alias(pcol), "address", "zip", "prev_address", "prev_zip", "move_date")
    rows = rows.join(home, on=pcol, how="left", maintain_order="left")
    before_move = pl.col("move_date").is_not_null() & (pl.col("event_date") < pl.col("move_date"))
    return rows.with_columns(
        pl.coalesce(f"{p}moved_address", pl.when(before_move).then("prev_address").otherwise("address"))
        .alias(f"{p}address"),
        pl.coalesce(f"{p}moved_zip", pl.when(before_move).then("prev_zip").otherwise("zip")).alias(f"{p}zip"),
    ).drop("address", "zip", "prev_address", "prev_zip", "move_date")


def _format(agency: AgencySource, rows: pl.DataFrame, rng: np.random.Generator, case_habit: str) -> pl.DataFrame:
    n = rows.height
    rows = rows.with_columns(_case=fmt.row_case_styles(case_habit, n, rng),
                             _spell=pl.Series(rng.random(n) < fmt.SPELLED_OUT_RATE),
                             _plus4=pl.Series(rng.random(n) < fmt.ZIP4_RATE),
                             _zip4=pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4))
    case = pl.col("_case")
    out: dict[str, pl.Expr | pl.Series] = {}
    for block in agency.identities:
        p = f"{block.role}__"
        first = fmt.cased(pl.col(p + "first_name"), case)
        middle = pl.col(p + "middle_name")
        if block.middle_name and "initial" in block.middle_name.lower():
            middle = middle.str.slice(0, 1)
        middle = fmt.cased(middle, case)
        last_and_suffix = pl.concat_str([pl.col(p + "last_name"), pl.col(p + "suffix")], separator=" ")
        last = fmt.cased(last_and_suffix.str.strip_chars(), case)
        out[block.record_id] = pl.col(p + "record_id")
        if block.name_style == "separate":
            out[block.first_name] = first
            if block.middle_name:
                out[block.middle_name] = middle
            out[block.last_name] = last
        else:
            out[block.full_name] = fmt.full_name(block.name_style, first, middle, last)
        if block.dob:
            out[block.dob] = fmt.date_strings(pl.col(p + "dob"), agency.date_format)
        if block.sex:
            out[block.sex] = fmt.coded(rows[p + "sex"], agency.sex_codes, rng, fmt.UNKNOWN_SEX_RATE)
        if block.address and block.address not in out:
            out[block.address] = fmt.cased(fmt.address_strings(pl.col(p + "address"), pl.col("_spell")), case)
        if block.zip and block.zip not in out:
            out[block.zip] = fmt.zip_strings(pl.col(p + "zip"), pl.col("_plus4"), pl.col("_zip4"))
        if block.ssn:
            out[block.ssn] = pl.col(p + "ssn")
    if agency.race_column:
        # The race column describes the block whose role it is named after (mother_race), else the person.
        role = next((b.role for b in agency.identities[1:] if agency.race_column.startswith(b.role)), "person")
        out[agency.race_column] = fmt.coded(rows[f"{role}__race_ethnicity"], agency.race_codes, rng,
                                            fmt.UNKNOWN_RACE_RATE, fmt.RACE_FALLBACK)
    for column in agency.content:
        out[column.name] = fmt.content_strings(column, pl.col(column.name), agency.date_format)
    missing = set(agency.expected_columns) - set(out)
    if missing:
        raise ValueError(f"synthetic {agency.name}: no values for declared columns {sorted(missing)}")
    return rows.select([pl.lit(v).alias(k) if isinstance(v, pl.Series) else v.alias(k)
                        for k, v in out.items()]).select(agency.expected_columns).cast(pl.String).with_columns(
        pl.all().replace("", None))  # an empty field is written empty, not as ""



def _plant_problems(agency: AgencySource, rows: pl.DataFrame, strings: pl.DataFrame, rng: np.random.Generator,
                    noise_scale: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """~0.1% of rows get an impossible date or lose a required field, as hand-keyed data does."""
    n = rows.height
    chosen = np.flatnonzero(rng.random(n) < PROBLEM_RATE * noise_scale)
    date_cols = [c.name for c in agency.content if c.type == "date" and c.required] + \
        [b.dob for b in agency.identities if b.dob]
    required = [c.name for c in agency.content if c.required]
    problems = []
    for i in map(int, chosen):
        if not date_cols and not required:
            break
        if date_cols and (not required or rng.random() < 0.5):
            col = date_cols[int(rng.integers(0, len(date_cols)))]
            year = int(rng.integers(2005, 2026))
            value = pl.select(fmt.impossible_date(pl.lit(year), agency.date_format)).item()
            problem = "impossible_date"
        else:
            col = required[int(rng.integers(0, len(required)))]
            value, problem = None, "missing_required"
        strings = strings.with_columns(strings[col].scatter(i, value))
        problems.append((agency.name, rows["drop_file"][i], int(rows["row_number"][i]), col, problem, value))
    schema = {"agency": pl.String, "drop_file": pl.String, "row_number": pl.Int64, "column": pl.String,
              "problem": pl.String, "value": pl.String}
    return strings, pl.DataFrame(problems, schema=schema, orient="row")


def write_drop(agency: AgencySource, frame: pl.DataFrame, path: Path) -> None:
    text = frame.write_csv(separator=agency.delimiter, line_terminator="\n", null_value="")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(agency.encoding))
