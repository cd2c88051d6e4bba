"""Who lives in the synthetic city: households of mothers, children, twins and young parents.

Families are drawn top-down: a mother in a CSA (weighted by the CSA's youth population) with a
race/ethnicity from the CSA's mix, then her children spaced a year or more apart, some of them
twins. Daughters aged 15-24 may have babies born 2022-2026 (young parents); older youth may
have moved out to their own address. Mothers older than 24 are kept as adults: they appear in
vital records as mothers, as heads of public-housing households and in wage records.

Everything is vectorised with numpy/polars; one Generator makes it deterministic for a seed.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.reference.geography import csas
from hub_assets.synth.addresses import random_addresses
from hub_assets.synth.naming import assign_names

REF_DATE = date(2026, 9, 30)
REF_DAYS = (REF_DATE - date(1970, 1, 1)).days
MOVE_WINDOW = (date(2024, 7, 1), date(2026, 9, 1))  # moves that drops can see
YEAR = 365.25
TWIN_RATE = 0.016


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _family_frame(n_families: int, rng: np.random.Generator) -> pl.DataFrame:
    ref = csas()
    weights = ref["youth_weight"].to_numpy().astype(float)
    csa_idx = rng.choice(ref.height, size=n_families, p=weights / weights.sum())
    mix = ref.select("pct_black", "pct_white", "pct_hispanic", "pct_asian", "pct_multi").to_numpy()[csa_idx]
    cum = np.cumsum(mix, axis=1) / mix.sum(axis=1, keepdims=True)
    group_idx = (rng.random(n_families)[:, None] > cum).sum(axis=1)
    groups = np.array(["BLACK", "WHITE", "HISPANIC", "ASIAN", "MULTI"])[group_idx]
    # The small OMB categories are carved out of the "two or more" share.
    small = rng.random(n_families)
    groups = np.where((groups == "MULTI") & (small < 0.10), "AIAN", groups)
    groups = np.where((groups == "MULTI") & (small >= 0.10) & (small < 0.15), "NHPI", groups)
    groups = np.where((groups == "MULTI") & (small >= 0.15) & (small < 0.30), "MENA", groups)
    return pl.DataFrame({
        "family_id": np.arange(n_families),
        "csa": ref["csa"].to_numpy()[csa_idx],
        "race_ethnicity": groups,
        "mother_age": rng.uniform(25.0, 56.0, n_families),
        "first_birth_age": np.clip(rng.normal(22.5, 4.5, n_families), 15.0, 38.0),
        "n_children": np.minimum(1 + rng.poisson(1.4, n_families), 7),
    })


def _children(families: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    kids = families.select("family_id", "mother_age", "first_birth_age", "n_children").select(
        pl.all().repeat_by("n_children").explode()).drop("n_children")
    gaps = 1.1 + rng.exponential(1.8, kids.height)
    kids = kids.with_columns(gap=pl.Series(gaps)).with_columns(
        birth_order=pl.int_range(pl.len()).over("family_id"),
        spacing=(pl.col("gap").cum_sum().over("family_id") - pl.col("gap").first().over("family_id")),
    ).with_columns(age=pl.col("mother_age") - pl.col("first_birth_age") - pl.col("spacing"))
    return kids.filter((pl.col("age") >= 0) & (pl.col("age") < 25)).select("family_id", "birth_order", "age")


def _add_twins(kids: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    twin = rng.random(kids.height) < TWIN_RATE
    kids = kids.with_columns(twin_group=pl.when(pl.Series(twin)).then(pl.int_range(pl.len())).otherwise(None))
    second = kids.filter(pl.col("twin_group").is_not_null())
    return pl.concat([kids, second]).sort("family_id", "birth_order", maintain_order=True)


def _dob_from_age(age_years: np.ndarray) -> np.ndarray:
    return (REF_DAYS - np.floor(age_years * YEAR)).astype(np.int64)


def build_population(n_youth: int, rng: np.random.Generator) -> pl.DataFrame:
    """One row per person (youth 0-24 and the adult mothers of families), with truth columns."""
    n_families = int(n_youth / 1.55) + 20
    families = _family_frame(n_families, rng)
    kids = _add_twins(_children(families, rng), rng)
    # Babies of young mothers are youth too, so count them when trimming to n_youth.
    kids = kids.with_columns(sex=pl.Series(np.where(rng.random(kids.height) < 0.5, "F", "M")))
    kids = _young_parents(kids, rng)
    per_family = kids.group_by("family_id").len().sort("family_id")
    families = families.join(per_family, on="family_id", how="inner").sort("family_id")
    # Whole families, until the youth count reaches n_youth (the last family may overshoot a little).
    keep = families.filter(pl.col("len").cum_sum().shift(1, fill_value=0) < n_youth)
    kids = kids.join(keep.select("family_id"), on="family_id", how="semi")

    mothers = keep.select(
        "family_id", "csa", "race_ethnicity",
        age=pl.col("mother_age"), sex=pl.lit("F"), kind=pl.lit("mother"),
    )
    kids = kids.join(keep.select("family_id", "csa", "race_ethnicity"), on="family_id")
    people = pl.concat([
        mothers.with_columns(birth_order=pl.lit(-1), twin_group=pl.lit(None, pl.Int64),
                             young_mother_idx=pl.lit(None, pl.Int64), baby_of=pl.lit(None, pl.Int64)),
        kids.select("family_id", "csa", "race_ethnicity", "age", "sex", "kind", "birth_order",
                    "twin_group", "young_mother_idx", "baby_of"),
    ], how="diagonal_relaxed").sort("family_id", "birth_order", maintain_order=True)
    people = people.with_columns(
        person_id=pl.format("P{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(7)),
        dob=pl.Series(_dob_from_age(people["age"].to_numpy())).cast(pl.Date),
    )
    return _households(_link_mothers(people), rng)


def _young_parents(kids: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Daughters aged 15-24 who had babies in 2022-2026; the babies join the kids frame."""
    kids = kids.with_columns(kind=pl.lit("child"), idx=pl.int_range(pl.len()))
    age = kids["age"].to_numpy()
    p = np.select([age < 15, age < 18, age < 20], [0.0, 0.03, 0.10], 0.22)
    is_mom = (kids["sex"].to_numpy() == "F") & (rng.random(kids.height) < p)
    moms = kids.filter(pl.Series(is_mom))
    n_babies = np.where(rng.random(moms.height) < 0.15, 2, 1)
    babies = moms.select("family_id", "idx", "age").select(
        pl.all().repeat_by(pl.Series(n_babies)).explode())
    # Born between the mother's 15th birthday (or 2022-01-01) and the reference date.
    oldest = np.minimum(babies["age"].to_numpy() - 15.0, (REF_DAYS - _days(date(2022, 1, 1))) / YEAR)
    baby_age = rng.uniform(0.0, 1.0, babies.height) * np.maximum(oldest, 0.05)
    babies = pl.DataFrame({
        "family_id": babies["family_id"], "birth_order": pl.Series([100] * babies.height),
        "age": baby_age, "sex": np.where(rng.random(babies.height) < 0.5, "F", "M"),
        "kind": ["baby"] * babies.height, "baby_of": babies["idx"],
    })
    kids = kids.with_columns(young_mother_idx=pl.when(pl.Series(is_mom)).then(pl.col("idx")))
    return pl.concat([kids, babies], how="diagonal_relaxed")


def _link_mothers(people: pl.DataFrame) -> pl.DataFrame:
    """mother_person_id: the family's mother for children, the young mother for her babies."""
    family_mother = people.filter(pl.col("kind") == "mother").select("family_id", family_mother="person_id")
    young = people.filter(pl.col("young_mother_idx").is_not_null()).select(
        baby_of="young_mother_idx", young_mother="person_id")
    return (
        people.join(family_mother, on="family_id", how="left", maintain_order="left")
        .join(young, on="baby_of", how="left", maintain_order="left")
        .with_columns(mother_person_id=pl.when(pl.col("kind") == "mother").then(None)
                      .when(pl.col("kind") == "baby").then("young_mother")
                      .otherwise("family_mother"),
                      is_twin=pl.col("twin_group").is_not_null())
        .drop("family_mother", "young_mother")
    )


def _households(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Addresses: one per family household; young mothers 19+ and some older youth live apart."""
    n = people.height
    age = people["age"].to_numpy()
    kind = people["kind"].to_numpy()
    # Who left the family home: older youth, more so with age; young mothers take their babies.
    leave_p = np.clip((age - 18.0) * 0.08, 0.0, 0.6)
    leaves = (kind == "child") & (rng.random(n) < leave_p)
    young_mom = people["young_mother_idx"].is_not_null().to_numpy()
    leaves |= young_mom & (age >= 19) & (rng.random(n) < 0.6)
    people = people.with_columns(own_home=pl.Series(leaves))
    # A baby lives with its mother, wherever she lives.
    mom_home = people.select("person_id", "own_home").rename({"person_id": "mother_person_id", "own_home": "mom_home"})
    people = people.join(mom_home, on="mother_person_id", how="left", maintain_order="left").with_columns(
        household_key=pl.when(pl.col("own_home")).then(pl.col("person_id"))
        .when((pl.col("kind") == "baby") & pl.col("mom_home")).then(pl.col("mother_person_id"))
        .otherwise(pl.format("F{}", pl.col("family_id"))))
    homes = people.group_by("household_key", maintain_order=True).agg(pl.col("csa").first(), pl.col("own_home").first())
    h = homes.height
    # Youth who moved out mostly stay in their CSA; the rest of the city gets some too.
    home_csa = np.where(homes["own_home"].to_numpy() & (rng.random(h) < 0.35), None, homes["csa"].to_numpy())
    current = random_addresses(home_csa, rng)
    # Some households moved within the drop window; before then they lived at prev_address.
    moved = homes["own_home"].to_numpy() | (rng.random(h) < 0.12)
    prev_csa = np.where(rng.random(h) < 0.7, homes["csa"].to_numpy(), None)
    previous = random_addresses(prev_csa, rng)
    lo, hi = _days(MOVE_WINDOW[0]), _days(MOVE_WINDOW[1])
    homes = pl.concat([
        homes.select("household_key"),
        current,
        previous.rename({c: f"prev_{c}" for c in previous.columns}),
    ], how="horizontal").with_columns(
        household_id=pl.format("H{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(7)),
        move_date=pl.Series(rng.integers(lo, hi, h)).cast(pl.Date).set(pl.Series(~moved), None),
    ).with_columns([pl.when(pl.col("move_date").is_not_null()).then(pl.col(f"prev_{c}")).alias(f"prev_{c}")
                    for c in ("address", "zip", "csa")])
    people = people.drop("csa").join(homes, on="household_key", how="left", maintain_order="left")
    return assign_names(people, rng).drop("household_key", "mom_home", "twin_group", "baby_of", "young_mother_idx")
