"""Costly per-value expressions evaluated once per distinct input value, then joined back.

Standardising a name or an address is a chain of regexes per value, and the values repeat:
a few thousand first names cover a city, a household's address is on every member's row, and
an append file repeats a person on many rows. ``select_by_distinct`` gives exactly
``frame.select(**exprs)``, in the frame's row order, for expressions that are a function of the
values of their own input columns (every standardisation here is).
"""

from __future__ import annotations

import polars as pl

_OUT = "__out_"  # prefix for results while they sit beside their inputs


def select_by_distinct(frame: pl.DataFrame, exprs: dict[str, pl.Expr]) -> pl.DataFrame:
    """``frame.select(**exprs)``, each expression computed over the distinct values of the
    columns it reads (nulls included: a null input's result is computed once too)."""
    by_inputs: dict[tuple[str, ...], dict[str, pl.Expr]] = {}
    for name, expr in exprs.items():
        by_inputs.setdefault(tuple(dict.fromkeys(expr.meta.root_names())), {})[name] = expr
    columns: dict[str, pl.Series] = {}
    for inputs, group in by_inputs.items():
        if not inputs:  # literals: broadcast to the frame's height
            columns |= frame.with_columns(**group).select(list(group)).to_dict()
            continue
        distinct = frame.select(inputs).unique()
        results = distinct.with_columns(**{_OUT + name: expr for name, expr in group.items()})
        joined = frame.select(inputs).join(results, on=list(inputs), how="left", nulls_equal=True,
                                           maintain_order="left")
        columns |= {name: joined[_OUT + name].alias(name) for name in group}
    return pl.DataFrame([columns[name] for name in exprs]) if exprs else pl.DataFrame()
