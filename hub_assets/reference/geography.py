"""Where a person lives: street and ZIP to Baltimore Community Statistical Area (CSA).

``street_key`` reduces a free-text address ("1234 N. Montford Ave., Apt 2") to a street key
("N MONTFORD AVE"): upper case, no house number, no unit, standard suffix and direction
abbreviations. ``neighbourhood`` uses street + ZIP when both are known, else the ZIP's main
CSA (the CSA with the most youth among those the ZIP serves), else null.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from hub_assets.reference import REFERENCE_DIR

# Suffix spellings agencies use, normalised on the last word of the street only, so that
# "ST PAUL ST" keeps its leading SAINT abbreviation.
SUFFIXES = {
    "AVE": ("AVENUE", "AVEN", "AV", "AVE"),
    "ST": ("STREET", "STR", "ST"),
    "RD": ("ROAD", "RD"),
    "BLVD": ("BOULEVARD", "BOUL", "BLV", "BLVD"),
    "DR": ("DRIVE", "DRV", "DR"),
    "LN": ("LANE", "LN"),
    "PL": ("PLACE", "PL"),
    "CT": ("COURT", "CT"),
    "TER": ("TERRACE", "TERR", "TER"),
    "PKWY": ("PARKWAY", "PKY", "PKWY"),
    "CIR": ("CIRCLE", "CIR"),
    "HWY": ("HIGHWAY", "HWY"),
    "WAY": ("WAY", "WY"),
}
# Directions are normalised only as the first word and only when at least two words follow,
# because Baltimore has streets named after them ("W NORTH AVE").
DIRECTIONS = {"N": "NORTH", "S": "SOUTH", "E": "EAST", "W": "WEST"}
UNIT_WORDS = "APT|APARTMENT|UNIT|STE|SUITE|FL|FLOOR|RM|ROOM|BSMT|LOT"


def street_key(address: pl.Expr) -> pl.Expr:
    """'1234 N. Montford Ave., Apt 2' -> 'N MONTFORD AVE' (null stays null)."""
    key = (
        address.str.to_uppercase()
        .str.replace_all(r",", " ")
        .str.replace(r"\s*#.*$", "")
        .str.replace(rf"\s+({UNIT_WORDS})\b.*$", "")
        .str.replace_all(r"[.']", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        # House number: "1234", "1234A", "1234-36", "1234 1/2"
        .str.replace(r"^\d+[A-Z]?(-\d+[A-Z]?)?( 1/2)? ", "")
    )
    for short, long in DIRECTIONS.items():
        key = key.str.replace(rf"^{long} (\S+ \S)", f"{short} $1")
    for short, spellings in SUFFIXES.items():
        key = key.str.replace(rf" ({'|'.join(spellings)})$", f" {short}")
    return pl.when(key.str.len_chars() > 0).then(key).otherwise(None)


@cache
def csas() -> pl.DataFrame:
    """One row per CSA: csa, zips (list, main first), youth_weight, pct_* race/ethnicity mix."""
    return pl.read_csv(REFERENCE_DIR / "csas.csv", schema_overrides={"zips": pl.String}).with_columns(
        pl.col("zips").str.split(";"))


@cache
def street_lookup() -> pl.DataFrame:
    """Columns street_key, zip, csa; unique on (street_key, zip)."""
    streets = pl.read_csv(REFERENCE_DIR / "streets.csv", schema_overrides={"zip": pl.String})
    return streets.select(street_key(pl.col("street")).alias("street_key"), "zip", "csa").unique(
        ["street_key", "zip"], keep="first", maintain_order=True)


@cache
def zip_lookup() -> pl.DataFrame:
    """Columns zip, csa: each ZIP's main CSA, the one with the most youth among those it serves."""
    return (
        csas().explode("zips").rename({"zips": "zip"})
        .sort(["zip", "youth_weight", "csa"], descending=[False, True, False])
        .unique("zip", keep="first", maintain_order=True)
        .select("zip", "csa")
    )


def zip5(zip_code: pl.Expr) -> pl.Expr:
    """First five digits of a ZIP or ZIP+4, or null when there are not five digits."""
    return zip_code.cast(pl.String).str.extract(r"^\s*(\d{5})", 1)


def neighbourhood(df: pl.DataFrame, address_col: str | None, zip_col: str | None) -> pl.Series:
    """CSA from street+zip when the address allows, else the ZIP's main CSA, else null."""
    if zip_col is None:
        return pl.Series("neighbourhood", [None] * df.height, dtype=pl.String)
    places = df.select(
        (pl.col(address_col).cast(pl.String) if address_col else pl.lit(None, pl.String)).alias("address"),
        zip5(pl.col(zip_col)).alias("zip"),
    )
    # Each distinct place is resolved once: many records share an address (a household, a
    # roster resent every drop), and street_key's regular expressions are the cost (1M-row city:
    # 107k distinct places among 435k records).
    resolved = (
        places.unique()
        .with_columns(street_key(pl.col("address")).alias("street_key"))
        .join(street_lookup().rename({"csa": "street_csa"}), on=["street_key", "zip"], how="left")
        .join(zip_lookup().rename({"csa": "zip_csa"}), on="zip", how="left")
        .select("address", "zip", pl.coalesce("street_csa", "zip_csa").alias("neighbourhood"))
    )
    return places.join(resolved, on=["address", "zip"], how="left", nulls_equal=True,
                       maintain_order="left").get_column("neighbourhood")
