"""Costly per-value work done once per distinct input value, then joined back to the rows.

Standardising a name or an address is a chain of regexes per value, and the values repeat:
a few thousand first names cover a city, a household's address is on every member's row, an
append file repeats a person on many rows, and each snapshot drop of an agency repeats most of
the previous one. ``select_by_distinct`` gives exactly ``frame.select(**exprs)``, in the frame's
row order, for expressions that are a function of the values of their own input columns (every
standardisation here is). A ``ValueCache`` carries the results from one drop of a batch to the
next, so a value is worked out once per batch.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

_OUT = "__out_"  # prefix for results while they sit beside their inputs


class ValueCache:
    """Results by input values, per named computation, for the drops of one batch."""

    def __init__(self) -> None:
        self._tables: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}

    def results(self, name: str, distinct: pl.DataFrame,
                compute: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
        """``compute(distinct)``, computing only the input values not seen before under ``name``."""
        key = (name, tuple(distinct.columns))
        known = self._tables.get(key)
        if known is None:
            table = compute(distinct)
        else:
            new = distinct.join(known, on=distinct.columns, how="anti", nulls_equal=True)
            table = pl.concat([known, compute(new)]) if new.height else known
        self._tables[key] = table
        return table


def per_distinct(frame: pl.DataFrame, inputs: list[str], compute: Callable[[pl.DataFrame], pl.DataFrame],
                 outputs: list[str], cache: ValueCache | None = None, name: str = "") -> pl.DataFrame:
    """``compute`` (which adds ``outputs`` to a frame of ``inputs``) run on the distinct values of
    ``inputs`` only, and joined back: one row per row of ``frame``, in order (nulls are values too)."""
    distinct = frame.select(inputs).unique()
    results = cache.results(name, distinct, compute) if cache is not None else compute(distinct)
    joined = frame.select(inputs).join(results.select(*inputs, *outputs), on=inputs, how="left",
                                       nulls_equal=True, maintain_order="left")
    return joined.select(outputs)


def select_by_distinct(frame: pl.DataFrame, exprs: dict[str, pl.Expr], cache: ValueCache | None = None,
                       name: str = "") -> pl.DataFrame:
    """``frame.select(**exprs)``, each expression computed over the distinct values of the
    columns it reads. With a ``cache``, ``name`` must say whose expressions these are (the same
    name must always mean the same expressions)."""
    by_inputs: dict[tuple[str, ...], dict[str, pl.Expr]] = {}
    for out, expr in exprs.items():
        by_inputs.setdefault(tuple(dict.fromkeys(expr.meta.root_names())), {})[out] = expr
    columns: dict[str, pl.Series] = {}
    for inputs, group in by_inputs.items():
        if not inputs:  # literals: broadcast to the frame's height
            columns |= frame.with_columns(**group).select(list(group)).to_dict()
            continue
        prefixed = {_OUT + out: expr for out, expr in group.items()}
        results = per_distinct(frame, list(inputs), lambda d, prefixed=prefixed: d.with_columns(**prefixed),
                               list(prefixed), cache, f"{name}:{','.join(group)}")
        columns |= {out: results[_OUT + out].alias(out) for out in group}
    return pl.DataFrame([columns[out] for out in exprs]) if exprs else pl.DataFrame()
