"""Turn standard identity records into the table Splink compares.

Input: rows in the standard identity schema (``identity.current_records``, see
docs/data-contracts.md). Output: one row per record with ``unique_id`` (the record token),
the compared columns, and a few derived columns the comparisons and blocking rules need:

- ``middle_name`` as given, or an initial where the agency keeps only that (youthworks);
- ``first_name_aliases``: the first name plus every formal name it is a nickname of, from
  ``hub_assets/reference/nicknames.csv`` (BOB -> [BOB, ROBERT]); two records share an alias when
  one uses a nickname and the other the formal name, or both use nicknames of one name.
- ``ssn`` as nine digits (null where the agency does not hold it);
- ``dob`` as ISO text (so one-character edits can be measured), ``dob_swapped`` (day and month
  exchanged, when that is still a valid date) and ``birth_year``;
- ``born_by`` (ISO text): the latest birth date the record allows, for sources that declare a
  ``min_age`` (a wage earner is at least 14 when the drop is loaded). Clustering uses it, not
  Splink: a wage record without a DOB may not join a ten-year-old's school record.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

NICKNAMES_FILE = Path(__file__).resolve().parent.parent / "reference" / "nicknames.csv"

# The identity columns linkage uses, in the standard schema's spelling.
IDENTITY_COLUMNS = ("record_token", "source", "first_name", "middle_name", "last_name", "dob",
                    "sex", "address", "zip", "ssn", "loaded_at")

# What Splink sees: the compared columns, plus ids. Kept narrow so no other identifier
# (record_id, drop_id) enters Splink's tables.
SPLINK_COLUMNS = ("unique_id", "source", "first_name", "first_name_aliases", "middle_name", "last_name",
                  "dob", "dob_swapped", "birth_year", "sex", "address", "zip", "ssn")
# What clustering checks beside them (cluster.py), kept out of Splink's tables.
CLUSTER_ONLY_COLUMNS = ("born_by",)


def load_nicknames(path: Path = NICKNAMES_FILE) -> pl.DataFrame:
    """``formal,nickname`` pairs, upper-cased. A missing file means no alias level matches."""
    if not path.exists():
        return pl.DataFrame(schema={"formal": pl.String, "nickname": pl.String})
    table = pl.read_csv(path, infer_schema=False)
    missing = {"formal", "nickname"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected formal,nickname")
    return table.select(pl.col("formal").str.to_uppercase().str.strip_chars(),
                        pl.col("nickname").str.to_uppercase().str.strip_chars()).drop_nulls().unique()


def minimum_ages() -> dict[str, int]:
    """Identity source -> the ``min_age`` its declaration gives (only sources that give one)."""
    from hub_assets.sources.declaration import load_agencies

    return {agency.identity_source(block): block.min_age for agency in load_agencies()
            for block in agency.identities if block.min_age is not None}


def prepare_records(records: pl.DataFrame, nicknames: pl.DataFrame | None = None,
                    min_ages: dict[str, int] | None = None) -> pl.DataFrame:
    """Standard identity records -> Splink input (one row per record_token), plus
    ``CLUSTER_ONLY_COLUMNS``. ``min_ages``: source -> youngest age (default: the declarations)."""
    nicknames = load_nicknames() if nicknames is None else nicknames
    min_ages = minimum_ages() if min_ages is None else min_ages
    records = _with_all_identity_columns(records)
    dob = pl.col("dob").cast(pl.Date, strict=False)
    prepared = records.select(
        pl.col("record_token").alias("unique_id"),
        pl.col("source"),
        _blank_to_null("first_name"),
        _blank_to_null("middle_name"),
        _blank_to_null("last_name"),
        dob.dt.strftime("%Y-%m-%d").alias("dob"),
        _swapped(dob).alias("dob_swapped"),
        dob.dt.year().cast(pl.Int32).alias("birth_year"),
        _blank_to_null("sex"),
        _blank_to_null("address"),
        pl.col("zip").cast(pl.String).str.strip_chars().str.slice(0, 5).alias("zip"),
        _nine_digits("ssn"),
        _born_by(min_ages),
    )
    return _with_aliases(prepared, nicknames).select(*SPLINK_COLUMNS, *CLUSTER_ONLY_COLUMNS)


def prepare_from_identity(con: duckdb.DuckDBPyConnection, nicknames: pl.DataFrame | None = None,
                          table: str = "current_records") -> pl.DataFrame:
    """Read the standard identity table from an open identity connection and prepare it."""
    cols = ", ".join(IDENTITY_COLUMNS)
    return prepare_records(con.sql(f"select {cols} from {table}").pl(), nicknames)


def _with_all_identity_columns(records: pl.DataFrame) -> pl.DataFrame:
    # Sources that do not carry a column (no address, no sex) get it as null, not an error.
    missing = [c for c in IDENTITY_COLUMNS if c not in records.columns]
    if "record_token" in missing:
        raise ValueError("identity records have no record_token column")
    return records.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])


def _blank_to_null(column: str) -> pl.Expr:
    value = pl.col(column).cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(value == "").then(None).otherwise(value).alias(column)


def _nine_digits(column: str) -> pl.Expr:
    # Intake stores SSNs as nine digits; files given to `hub link` may carry dashes.
    digits = pl.col(column).cast(pl.String).str.replace_all(r"[\s-]", "")
    return pl.when(digits.str.contains(r"^\d{9}$")).then(digits).alias(column)


def _born_by(min_ages: dict[str, int]) -> pl.Expr:
    # The load date, not the event date the record describes: a drop is loaded after its
    # events, so the person is at least as old then, and the bound errs towards allowing a link.
    min_age = pl.col("source").replace_strict(min_ages, default=None, return_dtype=pl.Int32)
    loaded = pl.col("loaded_at").cast(pl.Datetime("us", "UTC"), strict=False).dt.date()
    return loaded.dt.offset_by(pl.format("-{}y", min_age)).dt.strftime("%Y-%m-%d").alias("born_by")


def _swapped(dob: pl.Expr) -> pl.Expr:
    # Only dates whose day can also be a month have a swapped reading; the others stay null.
    can_swap = (dob.dt.day() <= 12) & (dob.dt.day() != dob.dt.month())
    text = pl.concat_str([dob.dt.strftime("%Y"), dob.dt.strftime("%d"), dob.dt.strftime("%m")],
                         separator="-")
    return pl.when(can_swap).then(text).otherwise(None)


def _with_aliases(prepared: pl.DataFrame, nicknames: pl.DataFrame) -> pl.DataFrame:
    formal_of = nicknames.group_by("nickname").agg(pl.col("formal").sort().alias("formals"))
    joined = prepared.join(formal_of, left_on="first_name", right_on="nickname", how="left")
    aliases = (pl.when(pl.col("first_name").is_null()).then(None)
               .otherwise(pl.concat_list(pl.col("first_name"),
                                         pl.col("formals").fill_null(pl.lit([], dtype=pl.List(pl.String))))
                          .list.unique(maintain_order=True)))
    return joined.with_columns(aliases.alias("first_name_aliases")).drop("formals")
