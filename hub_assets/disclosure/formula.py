"""Text that a spreadsheet would run as a formula, made inert before it is published.

A public CSV is opened in spreadsheets, which treat a cell starting with ``=``, ``+``, ``-`` or
``@`` (and, in some, a tab or carriage return) as a formula: a school named
``=HYPERLINK(...)`` would run for whoever opens the file. Following OWASP's CSV injection
guidance, such a text value gets a leading single quote, which spreadsheets show as text.
Only text columns are touched: a negative number is a number.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(table: pl.DataFrame) -> pl.DataFrame:
    """``table`` with every text value that starts like a formula prefixed by ``'``."""
    text = [c for c, dtype in table.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)]
    return table.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text
    )
