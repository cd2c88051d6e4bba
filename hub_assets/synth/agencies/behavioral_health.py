"""Public behavioral health encounters of young people aged 12-24.

Young people in foster care, with a juvenile intake, in a shelter or disconnected from school
and work are far likelier to be served; some of them are in substance-use treatment. Each
served young person has a run of encounters in one programme.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.synth.programs import program
from hub_assets.synth.timeline import age_at, as_dates, day_numbers, days

FIRST, LAST = date(2025, 1, 1), date(2026, 8, 31)
MENTAL = [("OMHC", "F32.9"), ("OMHC", "F41.1"), ("OMHC", "F43.10"), ("OMHC", "F90.2"), ("PRP", "F33.1"),
          ("CRISIS", "F43.0"), ("INPATIENT", "F32.2"), ("OMHC", "F91.3")]
SUBSTANCE = [("SUD_OUTPATIENT", "F12.20"), ("SUD_OUTPATIENT", "F10.20"), ("SUD_INTENSIVE_OUTPATIENT", "F12.20"),
             ("SUD_INTENSIVE_OUTPATIENT", "F11.20"), ("SUD_RESIDENTIAL", "F11.20")]


@program
def behavioral_health(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    youth = city.filter(pl.col("is_youth") & age_at(pl.col("dob"), FIRST).is_between(12, 23))
    risk = (youth["foster"] | youth["djs"] | youth["hmis_youth"] | youth["hmis_family"]).to_numpy()
    p = np.where(risk, 0.30, 0.06) * np.where(youth["disconnected"].to_numpy(), 1.8, 1.0)
    served = youth.filter(pl.Series(rng.random(youth.height) < p))
    n = served.height
    older = served.select(age_at(pl.col("dob"), FIRST) >= 14)[:, 0].to_numpy()
    sud = older & (rng.random(n) < np.where(served["djs"].to_numpy() | served["disconnected"].to_numpy(), 0.35, 0.12))
    s_i, m_i = rng.integers(0, len(SUBSTANCE), n), rng.integers(0, len(MENTAL), n)
    program_type = np.where(sud, np.array([t for t, _ in SUBSTANCE])[s_i], np.array([t for t, _ in MENTAL])[m_i])
    diagnosis = np.where(sud, np.array([d for _, d in SUBSTANCE])[s_i], np.array([d for _, d in MENTAL])[m_i])
    first = days(FIRST) + np.floor(rng.random(n) * (days(LAST) - days(FIRST) - 30)).astype(np.int64)
    visits = np.where(np.isin(program_type, ["CRISIS", "INPATIENT"]), 1, 1 + rng.poisson(5, n))
    rows = served.select("person_id").with_columns(
        ProgramType=pl.Series(program_type), PrimaryDiagnosis=pl.Series(diagnosis), SubstanceUse=pl.Series(sud),
        first=pl.Series(first), k=pl.Series(visits)).select(pl.all().repeat_by(pl.col("k")).explode()).drop("k")
    m = rows.height
    # Weekly-ish visits from the first encounter.
    step = rows.select(pl.int_range(pl.len()).over("person_id"))[:, 0].to_numpy()
    when = np.minimum(rows["first"].to_numpy() + 7 * step + rng.integers(0, 4, m), days(LAST))
    rows = rows.with_columns(
        ServiceDate=as_dates(when),
        EncounterID=pl.format("ENC{}", pl.Series(rng.permutation(m) + 7_000_000).cast(pl.String)),
        Units=pl.Series(np.where(rows["ProgramType"].is_in(["INPATIENT", "SUD_RESIDENTIAL"]).to_numpy(),
                                 rng.integers(1, 15, m), rng.integers(1, 5, m))))
    # Half-year drops in 2025, then quarterly, each named by its last month.
    half = (pl.when(pl.col("ServiceDate") < pl.lit(date(2025, 7, 1))).then(pl.lit("2025-06"))
            .when(pl.col("ServiceDate") < pl.lit(date(2026, 1, 1))).then(pl.lit("2025-12"))
            .otherwise(pl.format("{}-{}", pl.col("ServiceDate").dt.year(),
                                 (pl.col("ServiceDate").dt.quarter() * 3).cast(pl.String).str.zfill(2))))
    return rows.with_columns(drop_file=pl.format("bhsb_encounters_{}.csv", half), event_date=pl.col("ServiceDate")).select(
        "person_id", "drop_file", "event_date", "EncounterID", "ServiceDate", "ProgramType", "PrimaryDiagnosis",
        "SubstanceUse", "Units")
