"""Adult bookings of young people aged 18-24.

Those with a juvenile record, who were in foster care or who are disconnected from school and
work are far likelier to be booked; a few young mothers are too. Most have one booking.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.synth.population import REF_DATE
from hub_assets.synth.programs import program
from hub_assets.synth.timeline import as_dates, day_numbers, days

FIRST = date(2025, 1, 1)
CATEGORIES = ["VIOLENT", "PROPERTY", "PROPERTY", "DRUG", "DRUG", "WEAPONS", "TRAFFIC", "PUBLIC_ORDER", "WARRANT"]


@program
def adult_justice(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    adults = city.filter(pl.col("age_now").is_between(18, 25))
    male = (adults["sex"] == "M").to_numpy()
    young_mother = adults["person_id"].is_in(city["mother_person_id"].drop_nulls().implode()).to_numpy()
    p = np.where(adults["djs"].to_numpy(), 0.35, np.where(male, 0.05, 0.015))
    p = p * np.where(adults["disconnected"].to_numpy(), 2.5, 1.0) * np.where(adults["foster"].to_numpy(), 1.6, 1.0)
    p = np.where(young_mother, np.maximum(p, 0.04), p)
    booked = adults.filter(pl.Series(rng.random(adults.height) < p))
    k = np.where(rng.random(booked.height) < 0.75, 1, rng.integers(2, 4, booked.height))
    rows = booked.select("person_id", "dob").select(pl.all().repeat_by(pl.Series(k)).explode())
    m = rows.height
    eighteen = day_numbers(rows["dob"]) + int(18 * 365.25) + 1
    lo = np.maximum(eighteen, days(FIRST))
    hi = days(REF_DATE) - 3
    arrest = lo + np.floor(rng.random(m) * np.maximum(hi - lo + 1, 1)).astype(np.int64)
    rows = rows.with_columns(arrest=pl.Series(arrest)).filter(pl.col("arrest") <= hi)
    m = rows.height
    arrest = rows["arrest"].to_numpy()
    category = np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), m)]
    level = np.where(np.isin(category, ["VIOLENT", "WEAPONS"]) | (rng.random(m) < 0.25), "FELONY",
                     np.where(category == "TRAFFIC", "CITATION", "MISDEMEANOR"))
    release = np.where(level == "CITATION", "CITATION",
                       np.array(["ROR", "ROR", "BAIL", "HELD", "DISMISSED"])[rng.integers(0, 5, m)])
    rows = rows.with_columns(
        ARREST_DATE=as_dates(arrest), BOOKING_DATE=as_dates(arrest + (rng.random(m) < 0.3)),
        BOOKING_NO=pl.format("B{}", pl.Series(rng.permutation(m) + 26_000_000).cast(pl.String)),
        CHARGE_CATEGORY=pl.Series(category), CHARGE_LEVEL=pl.Series(level), RELEASE_TYPE=pl.Series(release))
    # Extracts by half-year, the last one partial (to the end of September 2026).
    drop = (pl.when(pl.col("ARREST_DATE") < pl.lit(date(2025, 7, 1))).then(pl.lit("2025-06"))
            .when(pl.col("ARREST_DATE") < pl.lit(date(2026, 1, 1))).then(pl.lit("2025-12"))
            .when(pl.col("ARREST_DATE") < pl.lit(date(2026, 7, 1))).then(pl.lit("2026-06"))
            .otherwise(pl.lit("2026-09")))
    return rows.with_columns(drop_file=pl.format("cbif_bookings_{}.csv", drop), event_date=pl.col("ARREST_DATE")).select(
        "person_id", "drop_file", "event_date", "BOOKING_NO", "ARREST_DATE", "BOOKING_DATE", "CHARGE_CATEGORY",
        "CHARGE_LEVEL", "RELEASE_TYPE")
