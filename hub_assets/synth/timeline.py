"""Dates and ages for the synthetic city: random dates, ages at a date, quarters, summer weeks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)


def days(d: date) -> int:
    return (d - EPOCH).days


def as_dates(day_numbers: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(day_numbers, dtype=np.int64)).cast(pl.Date)


def random_dates(lo: date | np.ndarray, hi: date | np.ndarray, n: int, rng: np.random.Generator) -> pl.Series:
    """Uniform dates in [lo, hi] (inclusive); lo/hi may be arrays of day numbers."""
    lo_d = days(lo) if isinstance(lo, date) else np.asarray(lo)
    hi_d = days(hi) if isinstance(hi, date) else np.asarray(hi)
    span = np.maximum(hi_d - lo_d, 0) + 1
    return as_dates(lo_d + np.floor(rng.random(n) * span).astype(np.int64))


def day_numbers(col: pl.Series) -> np.ndarray:
    return col.cast(pl.Int64).to_numpy()


def age_at(dob: pl.Expr, when: date | pl.Expr) -> pl.Expr:
    """Whole years of age on a date (birthdays counted exactly)."""
    when = pl.lit(when) if isinstance(when, date) else when
    before_birthday = (when.dt.month() < dob.dt.month()) | (
        (when.dt.month() == dob.dt.month()) & (when.dt.day() < dob.dt.day()))
    return when.dt.year() - dob.dt.year() - before_birthday.cast(pl.Int32)


def monday_on_or_after(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7)


def quarter_bounds(year: int, q: int) -> tuple[date, date]:
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return start, end
