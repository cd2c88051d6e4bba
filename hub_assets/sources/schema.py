"""Each agency's pandera (polars) schemas, built from its declaration.

``drop_schema`` checks a drop as text, before anything is typed: required values present,
codes in the declared set, integers / numbers / booleans readable, dates in the declared shape
and real (02/30/2014 fails as ``impossible_date``). Its failures quarantine rows; they never
stop the drop. Each check's name is the quarantine ``rule``.

``identity_schema`` checks the hub's own output: standardised identity records. A failure
there is a bug in standardisation, so it raises.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from hub_assets.sources.declaration import OMB_RACE_ETHNICITY, AgencySource, ContentColumn
from hub_assets.sources.standardise import date_shape


def _check(name: str, test) -> pa.Check:
    """A vectorised element check named after the quarantine rule it enforces."""
    return pa.Check(lambda data: data.lazyframe.select(test(pl.col(data.key))), name=name)


def _date_checks(fmt: str) -> list[pa.Check]:
    shape = date_shape(fmt)
    return [
        _check("date_format", lambda c: c.str.contains(shape)),
        # Only values of the right shape are judged here, so each bad value gets one reason.
        _check("impossible_date",
               lambda c: ~c.str.contains(shape) | c.str.to_date(fmt, strict=False).is_not_null()),
    ]


def _content_checks(col: ContentColumn, date_format: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.type == "int":
        checks.append(_check("not_an_integer", lambda c: c.str.contains(r"^[+-]?\d+$")))
    elif col.type == "float":
        checks.append(_check("not_a_number",
                             lambda c: c.str.replace_all(r"[$,]", "").cast(pl.Float64, strict=False).is_not_null()))
    elif col.type == "bool":
        known = [v.upper() for v in (*col.true_values, *col.false_values)]
        checks.append(_check("not_a_boolean", lambda c: c.str.to_uppercase().is_in(known)))
    elif col.type == "date":
        checks += _date_checks(date_format)
    if col.codes:
        codes = list(col.codes)
        checks.append(_check("code_not_in_set", lambda c: c.is_in(codes)))
    return checks


def drop_schema(source: AgencySource) -> pa.DataFrameSchema:
    if source.name not in _DROP_SCHEMAS:
        _DROP_SCHEMAS[source.name] = _build_drop_schema(source)
    return _DROP_SCHEMAS[source.name]


_DROP_SCHEMAS: dict[str, pa.DataFrameSchema] = {}  # by agency: declarations hold dicts, so no @cache


def _build_drop_schema(source: AgencySource) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for block in source.identities:
        columns[block.record_id] = pa.Column(pl.String, nullable=False)
        if block.dob:
            columns[block.dob] = pa.Column(pl.String, nullable=True, checks=_date_checks(source.date_format))
    for col in source.content:
        columns[col.name] = pa.Column(pl.String, nullable=not col.required,
                                      checks=_content_checks(col, source.date_format))
    return pa.DataFrameSchema(columns, name=f"{source.name}_drop", strict=False)


IDENTITY_COLUMNS = {
    "record_token": pa.Column(pl.String, checks=pa.Check.str_matches(r"^[0-9a-f]{64}$")),
    "source": pa.Column(pl.String),
    "record_id": pa.Column(pl.String),
    "first_name": pa.Column(pl.String, nullable=True, checks=pa.Check.str_matches(r"^[A-Z][A-Z\- ]*$")),
    "middle_name": pa.Column(pl.String, nullable=True, checks=pa.Check.str_matches(r"^[A-Z][A-Z\- ]*$")),
    "last_name": pa.Column(pl.String, nullable=True, checks=pa.Check.str_matches(r"^[A-Z][A-Z\- ]*$")),
    "dob": pa.Column(pl.Date, nullable=True),
    "sex": pa.Column(pl.String, nullable=True, checks=pa.Check.isin(["M", "F", "X"])),
    "address": pa.Column(pl.String, nullable=True),
    "zip": pa.Column(pl.String, nullable=True, checks=pa.Check.str_matches(r"^\d{5}$")),
    "ssn": pa.Column(pl.String, nullable=True, checks=pa.Check.str_matches(r"^\d{9}$")),
    "race_ethnicity": pa.Column(pl.String, nullable=True, checks=pa.Check.isin(list(OMB_RACE_ETHNICITY))),
}
identity_schema = pa.DataFrameSchema(IDENTITY_COLUMNS, name="identity_records", strict=False)


def value_class(value: str | None) -> str:
    """What kind of value failed, without repeating the value (it may identify someone)."""
    if value is None:
        return "missing"
    v = value.strip()
    if v.isdigit():
        return "digits"
    if pl.Series([v]).str.contains(r"^[+-]?[\d,]*\.?\d+$")[0]:
        return "number"
    if pl.Series([v]).str.contains(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")[0]:
        return "date-like"
    if v.replace(" ", "").isalpha():
        return "letters"
    return "mixed"


def row_failures(source: AgencySource, frame: pl.DataFrame, source_row: str) -> pl.DataFrame:
    """One row per (row, column, rule) that fails the drop schema:
    ``source_row, column_name, value_class, rule``. Empty when every row passes."""
    empty = pl.DataFrame(schema={source_row: pl.Int64, "column_name": pl.String,
                                 "value_class": pl.String, "rule": pl.String})
    try:
        drop_schema(source).validate(frame, lazy=True)
        return empty
    except pa.errors.SchemaErrors as exc:
        failure = exc  # kept: Python unbinds ``exc`` when the except block ends
        cases = exc.failure_cases
    cases = cases.filter(pl.col("index").is_not_null())
    if cases.is_empty():
        raise RuntimeError(f"agency {source.name}: schema failed without row-level cases:\n{failure}")
    return cases.select(
        frame[source_row].gather(cases["index"]).alias(source_row),
        pl.col("column").alias("column_name"),
        # map_elements skips nulls, and a null is exactly what "required_missing" found.
        pl.col("failure_case").map_elements(value_class, return_dtype=pl.String).fill_null("missing")
        .alias("value_class"),
        pl.when(pl.col("check") == "not_nullable").then(pl.lit("required_missing"))
        .otherwise(pl.col("check")).alias("rule"),
    ).sort(source_row, "column_name")
