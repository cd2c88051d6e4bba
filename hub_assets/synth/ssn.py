"""Social Security numbers: one per person, and as each agency keyed it.

Everyone gets a unique, validly shaped number (no area 000, 666 or 9xx, no group 00, no serial
0000). Agencies that hold SSNs (payroll, wage, housing, care systems) drop some (``missing_ssn``)
and mistype some (``ssn_typo``: one digit changed, or two neighbours swapped), and write them with
or without dashes. These draws use their own generator so that adding SSNs left every other
value of the city unchanged.
"""

from __future__ import annotations

import numpy as np
import polars as pl

DASHED_RATE = 0.5


def assign_ssns(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = people.height
    area = rng.integers(1, 900, 2 * n + 100)
    area = np.where(area == 666, 667, area)
    numbers = area * 1_000_000 + rng.integers(1, 100, area.size) * 10_000 + rng.integers(1, 10_000, area.size)
    unique = np.unique(numbers)
    chosen = rng.permutation(unique)[:n]
    return people.with_columns(ssn=pl.Series(chosen).cast(pl.String).str.zfill(9))


def mistype(ssn: str, u: float, v: float) -> str:
    i = int(v * 8)
    if u < 0.5:  # neighbours swapped (or, if equal, the next digit changed)
        if ssn[i] != ssn[i + 1]:
            return ssn[:i] + ssn[i + 1] + ssn[i] + ssn[i + 2:]
    digit = str((int(ssn[i]) + 1 + int(u * 8)) % 10)
    return ssn[:i] + digit + ssn[i + 1:]


def keyed_ssns(ident: pl.DataFrame, persons: pl.DataFrame, rates: dict[str, float], scale: float,
               rng: np.random.Generator) -> pl.DataFrame:
    """Adds ``ssn`` as the agency recorded it to one row per record, and its noise to ``noise``."""
    ssn = ident.select("person_id").join(persons.select("person_id", "ssn"), on="person_id", how="left",
                                         maintain_order="left")["ssn"].to_list()
    n = len(ssn)
    missing = rng.random(n) < min(1.0, rates.get("missing_ssn", 0.0) * scale)
    typo = ~missing & (rng.random(n) < min(1.0, rates.get("ssn_typo", 0.0) * scale))
    u, v, dashed = rng.random(n), rng.random(n), rng.random(n) < DASHED_RATE
    for i in np.flatnonzero(typo):
        ssn[i] = mistype(ssn[i], u[i], v[i])
    written = [None if missing[i] or s is None else (f"{s[:3]}-{s[3:5]}-{s[5:]}" if dashed[i] else s)
               for i, s in enumerate(ssn)]
    flags = pl.concat_list([pl.when(pl.lit(pl.Series(missing))).then(pl.lit("missing_ssn")),
                            pl.when(pl.lit(pl.Series(typo))).then(pl.lit("ssn_typo"))]).list.drop_nulls()
    return ident.with_columns(ssn=pl.Series(written, dtype=pl.String),
                              noise=pl.concat_list("noise", flags))
