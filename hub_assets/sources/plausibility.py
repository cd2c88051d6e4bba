"""Rows that are well formed but not believable, and rows a drop repeats: both are quarantined
with a reason, like a row that fails the drop schema.

The rules come from the agency's ``plausibility`` declaration (``AgencySource.plausibility``):

- ``date_in_future``: a date after the day the drop arrived (columns in ``may_be_future``,
  such as a planned exit date, may lie as many days ahead as declared);
- ``dob_before_floor``: a date of birth before the declared floor;
- ``dob_after_service_date``: a date of birth after the row's service date;
- ``age_out_of_range``: a person's age in whole years at the service date outside the range
  declared for their role.

``duplicate_row`` quarantines every row whose values repeat an earlier row of the same drop.
Each failure is one (row, column, rule) like ``schema.row_failures``; the kind of value is
reported, never the value.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from hub_assets.sources.declaration import AgencySource

FAILURE_COLUMNS = ("column_name", "value_class", "rule")


def check_declaration(source: AgencySource) -> None:
    """Raise naming the agency when its plausibility block names columns or roles it lacks."""
    rules = source.plausibility
    dates = {c.name for c in source.content if c.type == "date"}
    dobs = {b.dob for b in source.identities if b.dob}
    problems = []
    if rules.service_date and rules.service_date not in dates | dobs:
        problems.append(f"service_date {rules.service_date!r} is not a declared date column")
    problems += [f"may_be_future names {c!r}, not a declared date column"
                 for c in rules.may_be_future if c not in dates | dobs]
    roles = {b.role: b for b in source.identities}
    for role in rules.ages:
        if role not in roles or not roles[role].dob:
            problems.append(f"ages names role {role!r}, which has no date of birth column")
    if rules.ages and not rules.service_date:
        problems.append("ages are measured at the service date: declare service_date")
    if problems:
        raise ValueError(f"agency {source.name}: plausibility: " + "; ".join(problems))


def _parsed(source: AgencySource, column: str) -> pl.Expr:
    return pl.col(column).str.to_date(source.date_format, strict=False)


def _whole_years(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    def month_day(d: pl.Expr) -> pl.Expr:  # month() and day() are Int8: widen before multiplying
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = month_day(on) < month_day(born)
    return on.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)


def implausible_rows(source: AgencySource, frame: pl.DataFrame, source_row: str, arrived: date) -> pl.DataFrame:
    """One row per (row, column, rule) that breaks a declared plausibility rule."""
    check_declaration(source)
    rules = source.plausibility
    dobs = {b.role: b.dob for b in source.identities if b.dob}
    dates = [*dobs.values(), *(c.name for c in source.content if c.type == "date")]
    tests: list[tuple[str, str, pl.Expr]] = [
        (c, "date_in_future", _parsed(source, c) > pl.lit(arrived + timedelta(days=rules.may_be_future.get(c, 0))))
        for c in dict.fromkeys(dates)
    ]
    if rules.dob_floor:
        tests += [(c, "dob_before_floor", _parsed(source, c) < pl.lit(rules.dob_floor)) for c in dobs.values()]
    if rules.service_date:
        service = _parsed(source, rules.service_date)
        for role, column in dobs.items():
            born = _parsed(source, column)
            tests.append((column, "dob_after_service_date", born > service))
            if role in rules.ages:
                lo, hi = rules.ages[role]
                age = _whole_years(born, service)
                tests.append((column, "age_out_of_range", (born <= service) & ((age < lo) | (age > hi))))
    if not tests:
        return _empty(source_row)
    flags = frame.select(pl.col(source_row), *(t.fill_null(False).alias(f"{c}\x1f{r}") for c, r, t in tests))
    long = flags.unpivot(index=source_row, variable_name="test", value_name="failed").filter("failed")
    return long.select(
        pl.col(source_row),
        pl.col("test").str.split("\x1f").list.first().alias("column_name"),
        pl.lit("date-like").alias("value_class"),
        pl.col("test").str.split("\x1f").list.last().alias("rule"),
    ).sort(source_row, "column_name")


def duplicate_rows(source: AgencySource, frame: pl.DataFrame, source_row: str) -> pl.DataFrame:
    """Every row whose declared values all repeat an earlier row of the drop; the value class
    names the earlier row, so a steward can find both."""
    columns = source.expected_columns
    first = frame.select(pl.col(source_row), pl.col(source_row).min().over(columns).alias("first"))
    repeats = first.filter(pl.col(source_row) != pl.col("first"))
    return repeats.select(
        pl.col(source_row),
        pl.lit(None, pl.String).alias("column_name"),
        pl.format("same as row {}", pl.col("first")).alias("value_class"),
        pl.lit("duplicate_row").alias("rule"),
    )


def _empty(source_row: str) -> pl.DataFrame:
    return pl.DataFrame(schema={source_row: pl.Int64, **{c: pl.String for c in FAILURE_COLUMNS}})
