"""Latent facts about each person's life that several agencies see from different sides.

A family in a homeless shelter shows up in HMIS *and* as McKinney-Vento students; a foster
child is more likely to have a juvenile intake (crossover youth); a disconnected young person
is neither enrolled nor working (opportunity youth). Drawing these once, before any agency,
keeps the agencies' views of one life consistent.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from hub_assets.synth.population import REF_DATE
from hub_assets.synth.timeline import age_at


def add_cohorts(persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = persons.height
    persons = persons.with_columns(age_now=age_at(pl.col("dob"), REF_DATE),
                                   is_youth=pl.col("kind") != "mother")
    age = persons["age_now"].to_numpy()
    youth = persons["is_youth"].to_numpy()

    # Household-level draws (shelter, public housing) are shared by everyone in the household.
    households = persons.select("household_id").unique(maintain_order=True)
    households = households.with_columns(hh_u=pl.Series(rng.random(households.height)),
                                         ph_u=pl.Series(rng.random(households.height)))
    drawn = persons.select("household_id").join(households, on="household_id", how="left", maintain_order="left")
    hh_u, ph_u = drawn["hh_u"].to_numpy(), drawn["ph_u"].to_numpy()

    disconnected = youth & (age >= 16) & (rng.random(n) < 0.13)
    has_kids_at_home = persons.group_by("household_id").agg(kids=(pl.col("age_now") < 18).sum())
    kids = persons.select("household_id").join(has_kids_at_home, on="household_id", how="left",
                                                maintain_order="left")["kids"].to_numpy()
    hmis_family = (kids > 0) & (hh_u < 0.025)
    hmis_youth = youth & (age >= 18) & persons["own_home"].to_numpy() & (rng.random(n) < 0.05) & ~hmis_family
    in_school = youth & ~disconnected & (rng.random(n) < np.where(age >= 16, 0.82, 0.87))
    foster = youth & (age <= 20) & (rng.random(n) < np.where(hmis_family, 0.06, 0.014))
    male = persons["sex"].to_numpy() == "M"
    djs_p = np.where(foster, 0.30, np.where(male, 0.03, 0.012)) * np.where(disconnected, 2.0, 1.0)
    djs = youth & (age >= 12) & (age <= 23) & (rng.random(n) < djs_p)
    # Quarterly chance of having wages: none when disconnected, some for students, most otherwise.
    work_p = np.where(age >= 18, rng.beta(5, 3, n) * 0.8, 0.22)
    work_p = np.where(youth & (age >= 16) & ~disconnected, work_p, 0.0)
    work_p = np.where(~youth, 0.45, work_p)  # adult mothers: "maybe in wage records"
    return persons.with_columns(
        disconnected=pl.Series(disconnected), hmis_family=pl.Series(hmis_family),
        hmis_youth=pl.Series(hmis_youth), in_school=pl.Series(in_school), foster=pl.Series(foster),
        djs=pl.Series(djs), work_p=pl.Series(work_p), public_housing=pl.Series(ph_u < 0.10),
        propensity=pl.Series(rng.random(n)),  # a stable per-person draw programs reuse
    )
