"""Rounding every published count, so that no two releases can be subtracted into an exact count.

Suppression alone cannot stop differencing: a late drop of three youth changes every visible cell
they fall in by exactly three. So every visible count is rounded to the nearest multiple of
``disclosure.rounding_base`` (governance.yaml, default 5), as OpenSAFELY rounds all its counts.
The rounding is a pure function of the true count (deterministic; the same count always reads the
same), zero stays zero, and a published ``r`` means the true count lies in
``[r - half, r + half]`` with ``half = (base - 1) // 2``. Rates are recomputed from the rounded
numerator and denominator, so a rate tells a reader nothing the rounded counts do not.

A derived column that is not a plain ratio of its counts (e.g. a gap to a city-wide rate) is
computed again from the published table by the SQL expression its mart declares
(``meta.publish.recomputed``: over the rounded counts, the recomputed rates and the table's Total
rows), so it too says nothing the published counts do not. One declared without an expression is
coarsened: whole numbers are rounded like counts, fractions to two decimal places.
"""

from __future__ import annotations

import duckdb
import polars as pl

from hub_assets.disclosure.margins import PublishSpec


def half_width(base: int) -> int:
    """How far a published count may lie from the true one."""
    return (base - 1) // 2


def round_count(value: int, base: int) -> int:
    """Nearest multiple of ``base``; halves (even bases only) round up."""
    return ((value + base // 2) // base) * base if base > 1 else value


def round_counts(table: pl.DataFrame, spec: PublishSpec, base: int, scales: dict[str, float | None]) -> pl.DataFrame:
    """The suppressed table with every visible count rounded and every rate recomputed from them.

    ``scales`` gives each rate's scale (1 for a proportion, 100 for a percentage, None when the
    rate is not a plain ratio of its numerator and denominator)."""
    if base <= 1:
        return _recompute(table, spec)
    out = table.with_columns(
        ((pl.col(c) + base // 2) // base * base).cast(pl.Int64).alias(c) for c in spec.counts)
    recomputed = dict(spec.recomputed)
    for rate, num, den in spec.rates:
        if rate in recomputed:
            continue
        hidden = pl.col(f"{rate}_suppressed")
        scale = scales.get(rate)
        if scale is not None:
            value = pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * scale).round(4)
        elif _whole_numbers(table[rate]):  # a count by another formula (e.g. people short of a rate)
            value = ((pl.col(rate) + base // 2) // base * base).round(0)
        else:
            value = pl.col(rate).round(2)
        out = out.with_columns(pl.when(hidden).then(None).otherwise(value).cast(table.schema[rate]).alias(rate))
    return _recompute(out, spec)


def _recompute(table: pl.DataFrame, spec: PublishSpec) -> pl.DataFrame:
    """Each declared derived figure computed again, in declared order, from the table as published;
    hidden wherever its rate is."""
    for rate, sql in spec.recomputed:
        with duckdb.connect() as con:
            con.register("published", table.with_row_index("_row"))
            value = con.sql(f'select ({sql}) as value from published order by "_row"').pl()["value"]
        table = table.with_columns(
            pl.when(pl.col(f"{rate}_suppressed")).then(None).otherwise(value).cast(table.schema[rate]).alias(rate))
    return table


def _whole_numbers(column: pl.Series) -> bool:
    values = column.drop_nulls()
    if column.dtype.is_integer():
        return True
    return column.dtype.is_float() and bool(values.len()) and bool((values == values.round(0)).all())
