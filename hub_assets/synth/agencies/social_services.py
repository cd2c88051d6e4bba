"""TANF and SNAP benefit spells of households, and of young adults on their own.

A household in public housing or a shelter very likely receives SNAP, others less often; a
few receive TANF cash assistance too. Every member of the assistance unit is listed with each
spell, the case head first. Disconnected young adults living on their own often have SNAP.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.synth.population import REF_DATE
from hub_assets.synth.programs import program
from hub_assets.synth.timeline import as_dates, days

FIRST = date(2024, 7, 1)


@program
def social_services(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    # A young adult who left home is an assistance unit of their own.
    city = city.with_columns(unit=pl.when(pl.col("own_home")).then(pl.col("person_id")).otherwise(pl.col("household_id")))
    units = city.group_by("unit", maintain_order=True).agg(
        poor=(pl.col("public_housing") | pl.col("hmis_family") | pl.col("hmis_youth")).any(),
        disconnected=pl.col("disconnected").any(), size=pl.len())
    k = units.height
    p = np.where(units["poor"].to_numpy(), 0.75, np.where(units["disconnected"].to_numpy(), 0.45, 0.18))
    units = units.filter(pl.Series(rng.random(k) < p))
    k = units.height
    tanf = rng.random(k) < 0.2
    n_spells = np.where(rng.random(k) < 0.7, 1, 2)
    spells = units.with_columns(tanf=pl.Series(tanf)).select(pl.all().repeat_by(pl.Series(n_spells)).explode())
    s = spells.height
    start = days(FIRST) + np.floor(rng.random(s) * (days(REF_DATE) - days(FIRST) - 20)).astype(np.int64)
    length = np.ceil(rng.exponential(300, s)).astype(np.int64) + 30
    spells = spells.with_columns(
        PROGRAM=pl.Series(np.where(tanf[np.repeat(np.arange(k), n_spells)] & (rng.random(s) < 0.6), "TANF", "SNAP")),
        start=pl.Series(start), end=pl.Series(start + length),
        CASE_NO=pl.format("{}", pl.Series(rng.permutation(s) + 40_000_000).cast(pl.String)))
    members = city.select("person_id", "unit", "kind", "age_now", "own_home")
    rows = spells.join(members, on="unit", how="inner", maintain_order="left")
    head = (pl.col("own_home") | (pl.col("kind") == "mother")) | (
        (pl.col("age_now") == pl.col("age_now").max().over("CASE_NO")) & (pl.col("kind") != "mother").all().over("CASE_NO"))
    rows = rows.with_columns(
        RELATIONSHIP=pl.when(head).then(pl.lit("HEAD")).when(pl.col("kind").is_in(["child", "baby"]))
        .then(pl.lit("CHILD")).otherwise(pl.lit("OTHER_RELATIVE")),
        HOUSEHOLD_SIZE=pl.len().over("CASE_NO"), SPELL_START=pl.col("start").cast(pl.Date),
        SPELL_END=pl.col("end").cast(pl.Date))
    # Quarterly extracts of the spells that began in the quarter; the first covers all before July 2025.
    cut = (pl.when(pl.col("SPELL_START") < pl.lit(date(2025, 7, 1))).then(pl.lit("2025Q2"))
           .otherwise(pl.format("{}Q{}", pl.col("SPELL_START").dt.year(), pl.col("SPELL_START").dt.quarter())))
    rows = rows.with_columns(drop_file=pl.format("fia_benefits_{}.csv", cut), event_date=pl.col("SPELL_START"))
    # A spell still running when its extract was cut has no end yet.
    quarter_end = pl.date(pl.col("drop_file").str.extract(r"(\d{4})Q").cast(pl.Int32),
                          pl.col("drop_file").str.extract(r"Q(\d)").cast(pl.Int32) * 3, 1).dt.month_end()
    rows = rows.with_columns(SPELL_END=pl.when(pl.col("SPELL_END") <= quarter_end).then("SPELL_END"))
    rows = rows.sort("CASE_NO", pl.col("RELATIONSHIP") != "HEAD", "person_id")
    return rows.select("person_id", "drop_file", "event_date", "CASE_NO", "RELATIONSHIP", "PROGRAM", "SPELL_START",
                       "SPELL_END", "HOUSEHOLD_SIZE")
