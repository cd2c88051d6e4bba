"""Turn typed values into the strings an agency's file holds, as its declaration says.

Dates in the declared format, sex and race as the agency's own codes (the declared maps,
inverted), names in the declared style ("LAST, FIRST", "First Last", ...) and the agency's
case habit, addresses as keyed by hand (suffixes spelled out or abbreviated), flags as the
declared true/false values. Nothing here is specific to one agency.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from hub_assets.sources.declaration import ContentColumn

UNKNOWN_SEX_RATE = 0.01
UNKNOWN_RACE_RATE = 0.03
ZIP4_RATE = 0.03
SPELLED_OUT_RATE = 0.25
SPELLINGS = {" AVE": " AVENUE", " ST": " STREET", " RD": " ROAD", " BLVD": " BOULEVARD", " DR": " DRIVE",
             " LN": " LANE", " TER": " TERRACE", " PKWY": " PARKWAY", " HWY": " HIGHWAY"}


def date_strings(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.dt.strftime(fmt)


def impossible_date(year: pl.Expr, fmt: str) -> pl.Expr:
    """February 30th of ``year``, written in ``fmt`` (what a hand-keyed 02/30 looks like)."""
    parts = []
    for token in re.split(r"(%[A-Za-z])", fmt):
        if token == "%Y":
            parts.append(year.cast(pl.String))
        elif token == "%y":
            parts.append((year % 100).cast(pl.String).str.zfill(2))
        elif token == "%m":
            parts.append(pl.lit("02"))
        elif token == "%d":
            parts.append(pl.lit("30"))
        elif token:
            parts.append(pl.lit(token))
    return pl.concat_str(parts)


def _invert(codes: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, value in codes.items():
        out.setdefault(value, []).append(code)
    return out


def coded(values: pl.Series, codes: dict[str, str], rng: np.random.Generator, unknown_rate: float,
          fallback: dict[str, str] | None = None) -> pl.Series:
    """Agency codes for standard values: a random one of the codes declared for each value;
    ``unknown_rate`` of rows get a code for unknown (declared as "" or UNKNOWN) when there is one."""
    inverse = _invert(codes)
    unknown = inverse.get("", []) + inverse.get("UNKNOWN", [])
    n = values.len()
    vals = values.fill_null("")
    for value, alt in (fallback or {}).items():
        if value not in inverse:
            vals = vals.replace(value, alt)
    # Unmapped values, and a small share of all rows, are recorded as unknown.
    to_unknown = pl.Series(rng.random(n) < unknown_rate) | ~vals.is_in(list(inverse))
    vals = vals.zip_with(~to_unknown, pl.Series([codes[unknown[0]] if unknown else "?"] * n))
    # A random one of the codes declared for each value, by "<value>|<option index>".
    sizes = {v: len(o) for v, o in inverse.items()}
    u = pl.Series(rng.random(n))
    idx = (u * vals.replace_strict(sizes, default=1, return_dtype=pl.Float64)).floor().cast(pl.Int64)
    key = pl.select(pl.concat_str([pl.lit(vals), pl.lit("|"), pl.lit(idx.cast(pl.String))])).to_series()
    mapping = {f"{v}|{i}": code for v, options in inverse.items() for i, code in enumerate(options)}
    return key.replace_strict(mapping, default="", return_dtype=pl.String)


def cased(expr: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Upper-case systems also drop accents; title case and lower case keep what was typed."""
    folded = expr.str.to_uppercase().str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return (pl.when(style == "upper").then(folded)
            .when(style == "title").then(expr.str.to_titlecase())
            .when(style == "lower").then(expr.str.to_lowercase())
            .otherwise(expr))


def row_case_styles(habit: str, n: int, rng: np.random.Generator) -> pl.Series:
    """'upper'/'title' agencies always use one case; 'typed' means whatever the clerk typed."""
    if habit != "typed":
        return pl.Series([habit] * n, dtype=pl.String)
    u = rng.random(n)
    return pl.Series(np.select([u < 0.55, u < 0.9], ["title", "upper"], "lower"))


def full_name(style: str, first: pl.Expr, middle: pl.Expr, last: pl.Expr) -> pl.Expr:
    def join(*parts: pl.Expr) -> pl.Expr:
        return pl.concat_str(parts, separator=" ").str.replace_all(r"\s+", " ").str.strip_chars()
    if style == "last_comma_first":
        return pl.concat_str([last, pl.lit(", "), join(first, middle)])
    if style == "first_last":
        return join(first, middle, last)
    if style == "last_first":
        return join(last, first, middle)
    raise ValueError(f"name style {style!r} has no single-column form")


def address_strings(address: pl.Expr, spelled_out: pl.Expr) -> pl.Expr:
    """Some clerks spell out the street suffix and direction ('NORTH MONTFORD AVENUE')."""
    long = address
    for short, spelled in SPELLINGS.items():
        long = long.str.replace(rf"{short}($| APT)", f"{spelled}$1")
    long = long.str.replace(r"^(\d+) N ", "$1 NORTH ").str.replace(r"^(\d+) S ", "$1 SOUTH ")
    return pl.when(spelled_out).then(long).otherwise(address)


def zip_strings(zip_code: pl.Expr, plus4: pl.Expr, digits: pl.Expr) -> pl.Expr:
    return pl.when(plus4).then(pl.concat_str([zip_code, pl.lit("-"), digits])).otherwise(zip_code)


def content_strings(column: ContentColumn, expr: pl.Expr, date_format: str) -> pl.Expr:
    if column.type == "date":
        return date_strings(expr, date_format)
    if column.type == "bool":
        return pl.when(expr).then(pl.lit(column.true_values[0])).when(~expr).then(pl.lit(column.false_values[0]))
    if column.type == "float":
        return expr.round(2).cast(pl.String)
    return expr.cast(pl.String)


# Categories an agency's code set lacks are recorded as their nearest older category.
RACE_FALLBACK = {"MENA": "WHITE", "MULTI": "UNKNOWN", "NHPI": "ASIAN", "AIAN": "UNKNOWN"}
