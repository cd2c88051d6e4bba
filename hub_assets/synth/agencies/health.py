"""Medicaid claims for children's preventive care: well-child, dental and vision visits.

Most of the city's children in low-income households are enrolled; each enrolled child has
well-child visits on the periodicity schedule (more in the first two years), and some have dental
and vision care. Each visit is one or two claim lines with codes a plan would bill.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.synth.programs import program
from hub_assets.synth.timeline import age_at, as_dates, day_numbers, days

FIRST, LAST = date(2025, 1, 1), date(2026, 6, 30)  # service dates in the drops
# (procedure, diagnosis) pairs a dental or vision visit is billed with; well-child codes depend on age.
DENTAL = [("D0120", "Z01.20"), ("D1120", "Z01.20"), ("D1206", "Z29.3"), ("D0150", "Z01.20"), ("D1351", "Z01.20")]
VISION = [("99173", "Z01.00"), ("92004", "Z01.00"), ("92014", "Z01.01"), ("V2020", "H52.13"), ("V2100", "H52.13")]
NPIS = [f"1{n:09d}" for n in (234567893, 356712049, 467829130, 578930241, 689041352, 790152463, 801263574)]


def _well_child_code(age: np.ndarray, established: np.ndarray) -> np.ndarray:
    band = np.select([age < 1, age < 5, age < 12, age < 18], [0, 1, 2, 3], 4)
    return np.where(established, 99391, 99381) + band


@program
def health(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    kids = city.filter(pl.col("is_youth") & (age_at(pl.col("dob"), FIRST) <= 20))
    n = kids.height
    low_income = (kids["public_housing"] | kids["hmis_family"] | kids["foster"]).to_numpy()
    babies = (kids["kind"] == "baby").to_numpy()  # the children of young parents
    enrolled = rng.random(n) < np.where(low_income | babies, 0.95, 0.55)
    kids = kids.filter(pl.Series(enrolled))
    n = kids.height
    dob = day_numbers(kids["dob"])
    age = (days(FIRST) - dob) / 365.25
    # Visits over the 18 months: the schedule asks for ~6 in the first two years, yearly after.
    n_well = rng.poisson(np.where(age < 2, 4.0, 1.1) * np.where(kids["propensity"].to_numpy() < 0.8, 1, 0.4))
    n_dental = np.where(age >= 1, rng.poisson(np.where(age < 6, 0.9, 1.3)), 0)
    n_vision = np.where(age >= 3, rng.poisson(0.35), 0)
    frames = []
    for kind, counts in (("WELL_CHILD", n_well), ("DENTAL", n_dental), ("VISION", n_vision)):
        visits = kids.select("person_id", "dob").with_columns(k=pl.Series(counts)).filter(pl.col("k") > 0)
        visits = visits.select(pl.all().repeat_by(pl.col("k")).explode()).drop("k")
        m = visits.height
        lo = np.maximum(day_numbers(visits["dob"]) + 3, days(FIRST))
        when = lo + np.floor(rng.random(m) * (days(LAST) - lo + 1)).astype(np.int64)
        visits = visits.with_columns(SVC_FROM_DT=as_dates(when)).filter(pl.col("SVC_FROM_DT") <= pl.lit(LAST))
        m = visits.height
        at = ((day_numbers(visits["SVC_FROM_DT"]) - day_numbers(visits["dob"])) / 365.25)
        if kind == "WELL_CHILD":
            codes = _well_child_code(at, rng.random(m) < 0.85).astype(str)
            diag = np.where(rng.random(m) < 0.8, "Z00.129", "Z00.121")
            pos = np.where(rng.random(m) < 0.7, "11", "50")
        else:
            table = DENTAL if kind == "DENTAL" else VISION
            pick = rng.integers(0, len(table), m)
            codes = np.array([c for c, _ in table])[pick]
            diag = np.array([d for _, d in table])[pick]
            pos = np.where(rng.random(m) < (0.3 if kind == "DENTAL" else 0.1), "03", np.where(rng.random(m) < 0.5, "11", "71"))
        frames.append(visits.with_columns(
            SVC_CATEGORY=pl.lit(kind), PROC_CD=pl.Series(codes), DIAG_CD=pl.Series(diag), POS_CD=pl.Series(pos),
            RENDERING_NPI=pl.Series(np.array(NPIS)[rng.integers(0, len(NPIS), m)]),
            PAID_AMT=pl.Series(np.round(rng.gamma(3.0, 30.0 if kind != "WELL_CHILD" else 45.0, m), 2))))
    claims = pl.concat(frames)
    m = claims.height
    claims = claims.with_columns(
        CLM_ID=pl.format("{}", pl.Series(rng.permutation(m) + 25_000_000_000).cast(pl.String)), LINE_NO=pl.lit(1),
        quarter=pl.format("{}Q{}", pl.col("SVC_FROM_DT").dt.year(), pl.col("SVC_FROM_DT").dt.quarter()))
    # Quarterly extracts, half-years merged for the first year: claims run out before they are sent.
    drop = pl.when(pl.col("SVC_FROM_DT") < pl.lit(date(2025, 7, 1))).then(pl.lit("2025H1")).otherwise("quarter")
    return claims.with_columns(drop_file=pl.format("mco_claims_{}.txt", drop), event_date=pl.col("SVC_FROM_DT")).select(
        "person_id", "drop_file", "event_date", "CLM_ID", "LINE_NO", "SVC_FROM_DT", "SVC_CATEGORY", "PROC_CD", "DIAG_CD",
        "POS_CD", "RENDERING_NPI", "PAID_AMT")
