"""Planted programme effects: what taking part in a programme does to a youth's next year.

Runs once, after every agency's rows are drawn and before any drop is written
(:func:`plant_outcomes`). It

- gives each person a latent attendance rate for school year 2024-25, lower for youth known to
  child welfare, juvenile services, homeless services or public housing ("system-involved") and
  writes City Schools' ``DAYS_ENROLLED`` / ``DAYS_ATTENDED`` (year to date at each snapshot);
- plants **selection**: of the youth each programme drew for 2025 (YouthWorks and Summer Funding
  summer 2025, Family League out-of-school time June-December 2025), it keeps those with better
  prior attendance, no system involvement and from some neighbourhoods more often, so
  participants differ from everyone else before the programme;
- plants **effects**: the 2025-26 attendance rate (hence chronic absence), staying enrolled in
  2025-26, and (YouthWorks) wages in 2025Q4-2026Q1 depend on prior attendance and system
  involvement, plus a fixed effect of each programme a youth took part in (``EFFECTS``);
- returns, for the truth, each programme's planted effect on each outcome and the effect realised
  among its participants (both potential outcomes of each participant drawn with the same noise).

Outcomes, programmes and populations follow the hub's own definitions
(``int_programme_outcome_frame``): students enrolled in KG-11 in 2024-25, the next school year's
attendance (days attended / days enrolled) and enrolment, wages in the two quarters after the
summer for youth aged 16 or more. The pipeline never reads any of this.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from hub_assets.synth.timeline import age_at, quarter_bounds

BASE_YEAR, OUTCOME_YEAR = "2024-25", "2025-26"
SUMMER_START, SUMMER_END = date(2025, 6, 16), date(2025, 8, 24)  # the hub's summer 2025 (dbt vars)
OUTCOME_QUARTERS = ("2025Q4", "2026Q1")
CHRONIC_BELOW = 0.9  # attendance under 90% of enrolled days is chronic absence
# Additive effects of taking part: attendance in rate points (0.04 = 4 points), enrolment and
# employment in probability points (YouthWorks lowers the chance of leaving school by 3 points).
EFFECTS = {
    "youthworks": {"attendance_rate": 0.04, "enrolled": 0.03, "employed": 0.12},
    "summer_funding": {"attendance_rate": 0.03},
    "family_league": {"attendance_rate": 0.05},
}
# The programmes the hub compares, and which agencies' participation makes a participant.
PROGRAMMES = {"youthworks": ("youthworks",), "family_league": ("family_league",),
              "summer_programmes": ("youthworks", "summer_funding", "family_league_summer", "rec_parks")}
AGES = {"youthworks": (14, 21), "family_league": (5, 14), "summer_programmes": (5, 21)}
SYSTEMS = ("child_welfare", "juvenile_services", "hmis", "public_housing")
NEEDED = ("city_schools", "wage_records", "youthworks", "summer_funding", "family_league", "rec_parks")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _persons(rows: pl.DataFrame) -> set:
    cols = [c for c in rows.columns if c == "person_id" or c.endswith("_person_id")]
    return set(pl.concat([rows[c].drop_nulls() for c in cols]).to_list())


def _participants(rows: dict[str, pl.DataFrame]) -> dict[str, set]:
    """Who took part in each programme source in 2025, as the hub defines it."""
    yw, sfc = rows["youthworks"], rows["summer_funding"]
    fl, rp = rows["family_league"], rows["rec_parks"]
    fl25 = fl.filter(pl.col("session_start").dt.year() == 2025)
    return {
        "youthworks": set(yw.filter(pl.col("summer") == 2025)["person_id"]),
        "summer_funding": set(sfc.filter(pl.col("summer") == 2025)["person_id"]),
        "family_league": set(fl25["person_id"]),
        "family_league_summer": set(fl25.filter(pl.col("session_type") == "summer")["person_id"]),
        "rec_parks": set(rp.filter((pl.col("StartDate") <= SUMMER_END)
                                   & (pl.col("EndDate").fill_null(pl.col("StartDate")) >= SUMMER_START))["person_id"]),
    }


def _select(rows: pl.DataFrame, in_cohort: pl.Expr, keep: set) -> pl.DataFrame:
    return rows.filter(~in_cohort | pl.col("person_id").is_in(list(keep)))


def plant_outcomes(people: pl.DataFrame, rows: dict[str, pl.DataFrame],
                   rng: np.random.Generator) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The agencies' rows with selection and effects planted, and the truth of the effects. A
    city without the agencies the comparison needs (a test's few agencies) is left as drawn."""
    rows = dict(rows)
    if not set(NEEDED) <= set(rows):
        return rows, pl.DataFrame(schema={"programme": pl.String, "outcome": pl.String})
    ids = people["person_id"].to_numpy()
    index = {pid: i for i, pid in enumerate(ids)}
    n = len(ids)
    involved = set().union(*(_persons(rows[a]) for a in SYSTEMS if a in rows))
    system = np.array([pid in involved for pid in ids])
    csas = people["csa"].fill_null("unknown").to_numpy()
    names = np.unique(csas)
    csa_pull = dict(zip(names, rng.normal(0, 0.6, len(names)), strict=True))  # neighbourhood's pull to programmes
    prior = np.clip(rng.normal(0.9 - 0.05 * system, 0.06, n), 0.4, 0.99)

    # Selection: of each programme's 2025 draw, keep the better attenders, the uninvolved, and
    # youth of neighbourhoods with a stronger pull.
    pull = np.array([csa_pull[c] for c in csas])
    score = 40 * (prior - 0.9) - 1.3 * system + pull
    kept = {}
    for source, base in (("youthworks", 1.0), ("summer_funding", 1.0), ("family_league", 1.5)):
        u = rng.random(n)
        kept[source] = {pid for pid, k in zip(ids, u < _sigmoid(base + score), strict=True) if k}
    rows["youthworks"] = _select(rows["youthworks"], pl.col("summer") == 2025, kept["youthworks"])
    rows["summer_funding"] = _select(rows["summer_funding"], pl.col("summer") == 2025, kept["summer_funding"])
    rows["family_league"] = _select(rows["family_league"], pl.col("session_start").dt.year() == 2025,
                                    kept["family_league"])
    took = _participants(rows)
    member = {p: np.array([pid in took[p] for pid in ids]) for p in took}
    # Each scenario removes some programmes' effects: the actual world, and for each programme
    # the world where its participants had not taken part (both drawn with the same noise).
    none = np.zeros(n, bool)
    scenarios = {"actual": {}, "youthworks": {"youthworks": ~none}, "family_league": {"family_league": ~none},
                 "summer_programmes": {"youthworks": ~none, "summer_funding": ~none,
                                       "family_league": member["family_league_summer"]}}

    def effect(outcome: str, scenario: str) -> np.ndarray:
        total = np.zeros(n)
        for source, effects in EFFECTS.items():
            if outcome in effects:
                total += effects[outcome] * (member[source] & ~scenarios[scenario].get(source, none))
        return total

    rows["city_schools"], school = _schools(rows["city_schools"], index, prior, system, effect, scenarios, rng)
    rows["wage_records"], wages = _wages(rows["wage_records"], people, prior, effect, scenarios, rng)
    return rows, _truth(people, school, wages, member)


def _school_days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return np.maximum(np.busday_count(start.astype("datetime64[D]"), (end + 1).astype("datetime64[D]")), 0)


def _schools(schools: pl.DataFrame, index: dict, prior: np.ndarray, system: np.ndarray, effect, scenarios,
             rng: np.random.Generator) -> tuple[pl.DataFrame, dict]:
    """Attendance days on every snapshot row; 2025-26 enrolment and attendance planted."""
    n = len(prior)
    base = schools.filter(pl.col("SCHOOL_YEAR") == BASE_YEAR).group_by("person_id").agg(
        grade=pl.col("GRADE").first())
    cont = np.zeros(n, bool)
    cont[[index[p] for p in base.filter(pl.col("grade") != "12")["person_id"].to_list()]] = True
    # Leaving school: likelier for poor attenders; YouthWorks lowers the chance.
    p_leave = 0.02 + 0.6 * np.maximum(0.0, 0.9 - prior)
    u_leave = rng.random(n)
    enrolled_if = {s: u_leave >= np.clip(p_leave - effect("enrolled", s), 0, 1) for s in scenarios}
    noise = rng.normal(0, 0.025, n)
    rate_if = {s: np.clip(0.18 + 0.8 * prior - 0.015 * system + noise + effect("attendance_rate", s), 0.3, 1.0)
               for s in scenarios}
    pidx = np.array([index[p] for p in schools["person_id"].to_list()])
    year = schools["SCHOOL_YEAR"].to_numpy()
    keep = ~((year == OUTCOME_YEAR) & cont[pidx] & ~enrolled_if["actual"][pidx])
    schools, pidx, year = schools.filter(pl.Series(keep)), pidx[keep], year[keep]
    present = np.zeros(n, bool)
    present[pidx[year == OUTCOME_YEAR]] = True
    snap = schools["event_date"].cast(pl.Int64).to_numpy()
    entry = schools["ENTRY_DATE"].cast(pl.Int64).to_numpy()
    exit_ = schools["EXIT_DATE"].cast(pl.Int64).fill_null(int(snap.max()) + 1).to_numpy()
    enrolled_days = _school_days(entry, np.minimum(exit_, snap))
    rate = np.where(year == BASE_YEAR, prior[pidx], rate_if["actual"][pidx])
    schools = schools.with_columns(DAYS_ENROLLED=pl.Series(enrolled_days, dtype=pl.Int64),
                                   DAYS_ATTENDED=pl.Series(np.round(rate * enrolled_days).astype(np.int64)))
    # The outcome the hub reads: the latest snapshot's days of 2025-26, per person.
    last = schools.filter(pl.col("SCHOOL_YEAR") == OUTCOME_YEAR).sort("event_date").group_by("person_id").agg(
        days=pl.col("DAYS_ENROLLED").last())
    days = np.zeros(n)
    days[[index[p] for p in last["person_id"].to_list()]] = last["days"].to_numpy()
    observed = {s: np.where(days > 0, np.round(r * days) / np.maximum(days, 1), np.nan) for s, r in rate_if.items()}
    # Without leaving for a planted reason, a continuing student is enrolled when the generator
    # enrolled them at all (a few are missing from the next year's roster for no reason).
    listed = present | (cont & ~enrolled_if["actual"])
    return schools, {"continuing": cont, "enrolled_if": {s: e & listed for s, e in enrolled_if.items()},
                     "rate_if": observed, "present": present}


def _wages(wages: pl.DataFrame, people: pl.DataFrame, prior: np.ndarray, effect, scenarios,
           rng: np.random.Generator) -> tuple[pl.DataFrame, dict]:
    """Youth's wages in the two quarters after summer 2025, redrawn with the planted effect."""
    n = people.height
    youth = people["is_youth"].to_numpy() & ~people["disconnected"].to_numpy()
    employed_if = {s: np.zeros(n, bool) for s in scenarios}
    earnings_if = {s: np.zeros(n) for s in scenarios}
    out_rows = []
    for quarter in OUTCOME_QUARTERS:
        start, end = quarter_bounds(int(quarter[:4]), int(quarter[-1]))
        age = people.select(age_at(pl.col("dob"), start)).to_series().to_numpy()
        eligible = youth & (age >= 16)
        p = np.clip(0.15 + 0.8 * (prior - 0.88) + 0.05 * (age - 16), 0.02, 0.85)
        u, amount = rng.random(n), np.round(rng.gamma(2.0, 1200.0, n), 2)
        for s in scenarios:
            works = eligible & (u < np.clip(p + effect("employed", s), 0, 1))
            employed_if[s] |= works
            earnings_if[s] += np.where(works, amount, 0.0)
        works = eligible & (u < np.clip(p + effect("employed", "actual"), 0, 1))
        employer = rng.integers(0, 800, n)[works]
        out_rows.append(people.filter(pl.Series(works)).select("person_id").with_columns(
            drop_file=pl.lit(f"ui_wages_{quarter}.csv"), event_date=pl.lit(end), YEAR_QTR=pl.lit(quarter),
            EMPLOYER_ID=pl.Series([f"E{300_000 + e}" for e in employer], dtype=pl.String),
            NAICS2=pl.Series(np.array(["44", "45", "72", "72", "72", "62"])[employer % 6]),
            WAGES=pl.Series(amount[works])))
    redrawn = pl.col("YEAR_QTR").is_in(list(OUTCOME_QUARTERS)) & pl.col("person_id").is_in(
        people.filter(pl.Series(youth))["person_id"].implode())
    kept = wages.filter(~redrawn)
    out = pl.concat([kept, *(r.select(kept.columns).cast(kept.schema) for r in out_rows)])
    return out, {"employed_if": employed_if, "earnings_if": earnings_if}


def _truth(people: pl.DataFrame, school: dict, wages: dict, member: dict) -> pl.DataFrame:
    """Per programme and outcome: the planted effect and the effect realised among participants
    in the hub's comparison population (students of KG-11 in 2024-25 of the programme's ages)."""
    age_oct = people.select(age_at(pl.col("dob"), date(2025, 10, 1))).to_series().to_numpy()
    outcomes = {
        "attendance_rate": (school["rate_if"], school["present"]),
        "chronic_absence": ({s: (r < CHRONIC_BELOW).astype(float) for s, r in school["rate_if"].items()},
                            school["present"]),
        "enrolled_next_year": ({s: e.astype(float) for s, e in school["enrolled_if"].items()}, None),
        "employed": ({s: e.astype(float) for s, e in wages["employed_if"].items()}, age_oct >= 16),
        "earnings": (wages["earnings_if"], age_oct >= 16),
    }
    out = []
    for programme, sources in PROGRAMMES.items():
        lo, hi = AGES[programme]
        took = np.any([member[s] for s in sources], axis=0)
        treated = took & school["continuing"]
        for outcome, (potential, among) in outcomes.items():
            who = treated if among is None else treated & among
            if outcome in ("employed", "earnings") and programme == "family_league":
                continue
            # A programme's own parameter; summer programmes as a whole mix several (realised only).
            planted = (EFFECTS[programme].get(_PLANTED.get(outcome, outcome), 0.0)
                       if programme in EFFECTS else None)
            diff = potential["actual"][who] - potential[programme][who]
            out.append({"programme": programme, "outcome": outcome, "ages": f"{lo}-{hi}",
                        "participants": int(who.sum()), "planted_effect_parameter": planted,
                        "realised_effect": float(np.nanmean(diff)) if who.any() else None})
    return pl.DataFrame(out)


# Outcomes derived from a planted one: chronic absence follows attendance.
_PLANTED = {"chronic_absence": "none", "enrolled_next_year": "enrolled", "earnings": "none"}
