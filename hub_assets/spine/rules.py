"""The anonymised person spine and crosswalk, built from the identity zone for the warehouse.

Nothing here leaves with an identifier: the spine has birth year and month (never the day),
sex, race/ethnicity, neighbourhood, first/last seen dates, systems and a record count; the
crosswalk maps record tokens to person keys. Rules for attributes that differ across records:

- sex, birth year/month: the value most of the person's records give; ties go to the most
  recent record (latest drop), which reflects the latest correction;
- race/ethnicity: the most frequent *known* value (UNKNOWN and nulls ignored) — agencies that
  don't collect it must not outvote one that does; ties go to the most recent record; a
  person with no known value is UNKNOWN. (The OMB "MULTI" code is kept as reported, not
  inferred from disagreement, because disagreement is more often recording error.)
- neighbourhood: from the most recent record that has an address or ZIP.
- first_seen / last_seen: the dates of the first and last drop that carried the person's
  records; systems: the agencies those records came from (a mother's block in vital records
  counts as vital_records).
"""

from __future__ import annotations

import polars as pl

from hub_assets.reference.geography import neighbourhood
from hub_assets.sources.declaration import identifier_column_names
from hub_assets.sources.identity_sources import agency_of_source

IDENTIFIER_COLUMNS = identifier_column_names()  # the one list, derived from the declarations
SPINE_COLUMNS = ["person_key", "birth_year", "birth_month", "sex", "race_ethnicity",
                 "neighbourhood", "first_seen", "last_seen", "systems", "n_records"]


def crosswalk(keys: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """record_token, person_key, source — one row per current record."""
    return (records.select("record_token", "source").join(keys, on="record_token", how="left")
            .select("record_token", "person_key", "source").sort("record_token"))


def person_spine(records: pl.DataFrame, keys: pl.DataFrame, seen: pl.DataFrame) -> pl.DataFrame:
    """``records``: current identity records; ``seen``: record_token, first_seen, last_seen."""
    agencies = agency_of_source()
    records = records.with_columns(pl.col(c).cast(pl.String) for c in
                                   ("source", "sex", "race_ethnicity", "address", "zip"))
    per_record = (
        records.join(keys, on="record_token", how="inner")
        .join(seen, on="record_token", how="left")
        .with_columns(
            pl.col("dob").cast(pl.Date).dt.year().alias("birth_year"),
            pl.col("dob").cast(pl.Date).dt.month().alias("birth_month"),
            pl.col("source").replace_strict(agencies, default=pl.col("source")).alias("agency"),
            pl.when(pl.col("race_ethnicity") == "UNKNOWN").then(None)
            .otherwise(pl.col("race_ethnicity")).alias("known_race"),
        )
        # Recency order: later drop first, then later load, then token for determinism.
        .with_columns(pl.struct(pl.col("last_seen").fill_null(pl.date(1900, 1, 1)),
                                pl.col("loaded_at").cast(pl.String).fill_null(""),
                                "record_token").rank("ordinal").alias("recency"))
    )
    base = per_record.group_by("person_key").agg(
        pl.col("first_seen").min(), pl.col("last_seen").max(),
        pl.col("agency").unique().sort().alias("systems"), pl.len().alias("n_records"))
    spine = base.join(_latest_neighbourhood(per_record), on="person_key", how="left")
    for column, out in (("birth_year", "birth_year"), ("birth_month", "birth_month"),
                        ("sex", "sex"), ("known_race", "race_ethnicity")):
        spine = spine.join(_mode_latest(per_record, column, out), on="person_key", how="left")
    return (spine.with_columns(pl.col("race_ethnicity").fill_null("UNKNOWN"))
            .select(SPINE_COLUMNS).sort("person_key"))


def _latest_neighbourhood(per_record: pl.DataFrame) -> pl.DataFrame:
    """person_key -> neighbourhood of the person's most recent record with an address or ZIP.
    The record is chosen first and only its address is resolved: resolving every record's
    address cost 2.1 s of the spine's 6.8 s on a 1M-row city (435k records, 287k people)."""
    located = (per_record.filter(pl.col("address").is_not_null() | pl.col("zip").is_not_null())
               .group_by("person_key").agg(pl.col("address", "zip").sort_by("recency").last()))
    return located.select("person_key", neighbourhood(located, "address", "zip"))


def _mode_latest(per_record: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
    """Most common non-null value per person; ties -> the value of the most recent record."""
    counts = (per_record.filter(pl.col(column).is_not_null())
              .group_by("person_key", column).agg(pl.len().alias("n"), pl.col("recency").max()))
    return (counts.sort(["person_key", "n", "recency"], descending=[False, True, True])
            .unique("person_key", keep="first").select("person_key", pl.col(column).alias(out)))


def identifier_columns_in(frame: pl.DataFrame) -> set[str]:
    return IDENTIFIER_COLUMNS & set(frame.columns)
