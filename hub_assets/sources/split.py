"""Separation at the door: one validated drop becomes identity records and content rows.

Identity records (names, DOB, sex, address, ZIP, SSN, agency record ID) go to the identity zone in
the standard form, one per (source, record_id) per drop and per identity block. Content rows
go to the warehouse keyed by record tokens, with the declared types, race/ethnicity mapped to
the OMB categories and the neighbourhood derived from the address: no identifier travels.
Agency-assigned identifiers among the content (``identifier: token``) travel as keyed tokens,
their values kept in the identity zone's ``identifiers`` table; ``identifier: drop`` columns
stay behind. The drop ID and row number become ``drop_token`` and ``row_token``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from hub_assets.reference.geography import neighbourhood
from hub_assets.sources.declaration import AgencySource, ContentColumn, IdentityColumns
from hub_assets.sources.distinct import ValueCache, per_distinct, select_by_distinct
from hub_assets.sources.reader import SOURCE_ROW
from hub_assets.sources.schema import identity_schema
from hub_assets.sources.standardise import (
    clean_name,
    map_sex,
    parse_date,
    split_full_name,
    standard_address,
    standard_ssn,
    standard_zip,
)
from hub_assets.sources.tokens import drop_token, identifier_namespace, row_tokens, token_table

RECORD_COLUMNS = ("record_token", "source", "record_id", "first_name", "middle_name", "last_name", "dob",
                  "sex", "address", "zip", "race_ethnicity", "drop_id", "loaded_at", "ssn")
IDENTIFIER_COLUMNS = {"agency": pl.String, "column_name": pl.String, "value": pl.String, "token": pl.String,
                      "drop_id": pl.String}


@dataclass
class Split:
    records: pl.DataFrame  # identity.records rows
    content: pl.DataFrame  # raw.<agency> rows
    identifiers: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=IDENTIFIER_COLUMNS))
    # Values standardisation could not read and set to null (not quarantined: the row is good).
    nulled: dict[str, int] = field(default_factory=dict)


def race_expr(source: AgencySource) -> pl.Expr:
    if not source.race_column:
        return pl.lit(None, pl.String)
    raw = pl.col(source.race_column)
    mapped = raw.replace_strict(source.race_codes, default=None, return_dtype=pl.String)
    # Not recorded, or a code the declaration does not know: the category is unknown.
    return mapped.fill_null("UNKNOWN")


def _names(block: IdentityColumns) -> dict[str, pl.Expr]:
    if block.name_style == "separate":
        return {part: clean_name(pl.col(col)) if col else pl.lit(None, pl.String)
                for part, col in (("first_name", block.first_name), ("middle_name", block.middle_name),
                                  ("last_name", block.last_name))}
    return split_full_name(pl.col(block.full_name), block.name_style)


def _optional(col: str | None, expr) -> pl.Expr:
    return expr(pl.col(col)) if col else pl.lit(None, pl.String)


def identity_records(source: AgencySource, block: IdentityColumns, accepted: pl.DataFrame, tokens: pl.DataFrame,
                     drop_id: str, loaded_at: datetime, cache: ValueCache | None = None) -> pl.DataFrame:
    """The block's standard identity records; ``tokens`` is its ``token_table`` (record_id -> token)."""
    src = source.identity_source(block)
    # Names and addresses are regex chains and repeat across rows: standardised once per value.
    costly = select_by_distinct(accepted, {**_names(block),
                                           "address": _optional(block.address, standard_address)},
                                cache, name=src)
    records = accepted.select(
        pl.col(block.record_id).alias("record_id"),
        (parse_date(pl.col(block.dob), source.date_format) if block.dob else pl.lit(None, pl.Date)).alias("dob"),
        _optional(block.sex, lambda c: map_sex(c, source.sex_codes)).alias("sex"),
        _optional(block.zip, standard_zip).alias("zip"),
        _optional(block.ssn, standard_ssn).alias("ssn"),
        race_expr(source).alias("race_ethnicity"),
        pl.col(SOURCE_ROW),
    ).hstack(costly)
    # One record per agency ID per drop: append files repeat a person on many rows. Keep the
    # most complete identity, then the latest row; every row's content still reaches the warehouse.
    completeness = pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int8)
                                     for c in ("first_name", "last_name", "dob", "sex", "address", "zip"))
    records = (records.with_columns(completeness.alias("_complete"))
               .sort(["record_id", "_complete", SOURCE_ROW])
               .unique("record_id", keep="last", maintain_order=True)
               .sort(SOURCE_ROW))
    records = records.join(tokens, on="record_id", how="left", maintain_order="left").with_columns(
        pl.lit(src).alias("source"),
        pl.lit(drop_id).alias("drop_id"),
        pl.lit(loaded_at).alias("loaded_at"),
    ).select(RECORD_COLUMNS)
    identity_schema.validate(records)
    return records


def typed_content(col: ContentColumn, date_format: str) -> pl.Expr:
    c = pl.col(col.name)
    if col.type == "int":
        return c.str.replace(r"^\+", "").cast(pl.Int64)
    if col.type == "float":
        return c.str.replace_all(r"[$,]", "").cast(pl.Float64)
    if col.type == "bool":
        return (pl.when(c.str.to_uppercase().is_in([v.upper() for v in col.true_values])).then(True)
                .when(c.is_not_null()).then(False))
    if col.type == "date":
        return parse_date(c, date_format)
    return c


def content_rows(source: AgencySource, accepted: pl.DataFrame, tokens: dict[str, pl.DataFrame],
                 drop_id: str, key: bytes, loaded_at: datetime, cache: ValueCache | None = None,
                 identifiers: dict[str, pl.DataFrame] | None = None) -> pl.DataFrame:
    """The warehouse rows; ``tokens`` holds each identity block's ``token_table`` by role and
    ``identifiers`` each tokenised content column's (by column name)."""
    primary = source.primary
    identifiers = identifiers if identifiers is not None else identifier_tokens(source, accepted, key)
    with_tokens = accepted
    for block in source.identities:
        with_tokens = with_tokens.join(
            tokens[block.role].rename({"record_id": block.record_id, "record_token": block.token_column}),
            on=block.record_id, how="left", maintain_order="left")
    for col in source.tokenised:
        with_tokens = with_tokens.join(
            identifiers[col.name].rename({"record_id": col.name, "record_token": col.warehouse_name}),
            on=col.name, how="left", maintain_order="left")
    return with_tokens.select(
        *(pl.col(block.token_column) for block in source.identities),
        pl.lit(drop_token(key, source.name, drop_id)).alias("drop_token"),
        row_tokens(key, source.name, drop_id, accepted[SOURCE_ROW]).alias("row_token"),
        pl.lit(loaded_at).alias("loaded_at"),
        *(pl.col(col.warehouse_name) if col.identifier == "token" else
          typed_content(col, source.date_format).alias(col.warehouse_name) for col in source.warehouse_content),
        race_expr(source).alias("race_ethnicity"),
        _neighbourhoods(accepted, primary.address, primary.zip, cache),
    )


def identifier_tokens(source: AgencySource, accepted: pl.DataFrame, key: bytes) -> dict[str, pl.DataFrame]:
    """Each tokenised content identifier's ``token_table`` (value -> token), by file column."""
    return {col.name: token_table(key, identifier_namespace(source.name, col.file_name), accepted[col.name])
            for col in source.tokenised}


def identifier_rows(source: AgencySource, accepted: pl.DataFrame, tables: dict[str, pl.DataFrame],
                    drop_id: str) -> pl.DataFrame:
    """The identity zone's ``identifiers`` rows: every agency-assigned identifier value of the
    drop (tokenised or dropped) with its token, so the value can be traced and scanned for."""
    frames = []
    for col in source.content:
        if not col.identifier:
            continue
        if col.name in tables:
            values = tables[col.name].rename({"record_id": "value", "record_token": "token"})
        else:
            values = (accepted[col.name].drop_nulls().unique().cast(pl.String).to_frame("value")
                      .with_columns(pl.lit(None, pl.String).alias("token")))
        frames.append(values.with_columns(pl.lit(source.name).alias("agency"),
                                          pl.lit(col.file_name).alias("column_name"),
                                          pl.lit(drop_id).alias("drop_id")).select(list(IDENTIFIER_COLUMNS)))
    return pl.concat(frames) if frames else pl.DataFrame(schema=IDENTIFIER_COLUMNS)


def _neighbourhoods(accepted: pl.DataFrame, address: str | None, zip_col: str | None,
                    cache: ValueCache | None) -> pl.Series:
    """``neighbourhood`` per row, computed once per distinct (address, ZIP): households repeat
    across rows and drops, and the street-key regexes are the costly part."""
    cols = [c for c in (address, zip_col) if c]
    if not cols:
        return neighbourhood(accepted, address, zip_col)

    def place(places: pl.DataFrame) -> pl.DataFrame:
        return places.with_columns(neighbourhood(places, address, zip_col))

    return per_distinct(accepted, cols, place, ["neighbourhood"], cache, "neighbourhood")["neighbourhood"]


def nulled_counts(source: AgencySource, accepted: pl.DataFrame) -> dict[str, int]:
    """Values present in the file that standardisation could not read (set to null)."""
    counts: dict[str, int] = {}
    for block in source.identities:
        if block.sex:
            bad = accepted.select((pl.col(block.sex).is_not_null()
                                   & ~pl.col(block.sex).is_in(list(source.sex_codes))
                                   & ~pl.col(block.sex).str.to_uppercase().is_in(
                                       [k.upper() for k in source.sex_codes])).sum()).item()
            counts[f"{block.sex}: sex code not declared"] = bad
        if block.zip:
            bad = accepted.select((pl.col(block.zip).is_not_null() & standard_zip(pl.col(block.zip)).is_null())
                                  .sum()).item()
            counts[f"{block.zip}: not a 5-digit ZIP"] = bad
        if block.ssn:
            bad = accepted.select((pl.col(block.ssn).is_not_null() & standard_ssn(pl.col(block.ssn)).is_null())
                                  .sum()).item()
            counts[f"{block.ssn}: not a valid SSN"] = bad
    if source.race_column:
        bad = accepted.select((pl.col(source.race_column).is_not_null()
                               & ~pl.col(source.race_column).is_in(list(source.race_codes))).sum()).item()
        counts[f"{source.race_column}: race code not declared (UNKNOWN)"] = bad
    return {k: v for k, v in counts.items() if v}


def _token_table(key: bytes, source_name: str, record_ids: pl.Series, cache: ValueCache | None) -> pl.DataFrame:
    if cache is None:
        return token_table(key, source_name, record_ids)
    distinct = record_ids.drop_nulls().unique().cast(pl.String).to_frame("record_id")
    known = cache.results(f"record_token:{source_name}", distinct,
                          lambda new: token_table(key, source_name, new["record_id"]))
    return known.join(distinct, on="record_id", how="semi")


def split_drop(source: AgencySource, accepted: pl.DataFrame, key: bytes, drop_id: str,
               loaded_at: datetime, cache: ValueCache | None = None) -> Split:
    """``cache`` carries standardised values from one drop of a batch to the next."""
    # Each distinct record ID is hashed once, for both its identity record and its content rows,
    # and once per batch: a snapshot agency resends most of its roster in every drop.
    tokens = {block.role: _token_table(key, source.identity_source(block), accepted[block.record_id], cache)
              for block in source.identities}
    records = pl.concat([identity_records(source, block, accepted, tokens[block.role], drop_id, loaded_at, cache)
                         for block in source.identities])
    identifiers = identifier_tokens(source, accepted, key)
    content = content_rows(source, accepted, tokens, drop_id, key, loaded_at, cache, identifiers)
    return Split(records, content, identifier_rows(source, accepted, identifiers, drop_id),
                 nulled_counts(source, accepted))
