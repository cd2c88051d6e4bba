"""Street addresses in the synthetic city: a real street of the CSA, a house number, sometimes a unit."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from hub_assets.reference import REFERENCE_DIR
from hub_assets.reference.geography import csas


@cache
def _streets() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / "streets.csv", schema_overrides={"zip": pl.String}).with_row_index("row")


def random_csas(n: int, rng: np.random.Generator) -> np.ndarray:
    """CSAs weighted by youth population."""
    ref = csas()
    weights = ref["youth_weight"].to_numpy().astype(float)
    return ref["csa"].to_numpy()[rng.choice(ref.height, size=n, p=weights / weights.sum())]


def random_addresses(csa: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """One address per element: columns address, zip, csa. A None CSA means anywhere in the city."""
    n = len(csa)
    anywhere = random_csas(n, rng)
    csa = pl.Series("csa", list(csa), dtype=pl.String)
    csa = pl.select(pl.coalesce(pl.lit(csa), pl.lit(pl.Series(anywhere)))).to_series().alias("csa")
    streets = _streets()
    # A street uniformly among the CSA's streets: offset into the CSA's block of rows.
    blocks = streets.group_by("csa").agg(first=pl.col("row").min(), n=pl.len())
    picked = csa.to_frame().join(blocks, on="csa", how="left", maintain_order="left")
    rows = picked["first"].to_numpy() + np.floor(rng.random(n) * picked["n"].to_numpy()).astype(np.int64)
    chosen = streets[rows]
    # Strings are built in polars: numpy unicode arrays convert to polars slowly.
    has_unit = pl.Series(rng.random(n) < 0.15)
    unit = pl.format(
        " APT {}{}", pl.Series(rng.integers(1, 5, n)), pl.Series(np.array(list("ABCD"))[rng.integers(0, 4, n)].tolist())
    )
    return chosen.select(
        address=pl.format("{} {}", pl.Series(rng.integers(100, 6000, n)), pl.col("street"))
        + pl.when(has_unit).then(unit).otherwise(pl.lit("")),
        zip=pl.col("zip"),
        csa=pl.col("csa"),
    )
