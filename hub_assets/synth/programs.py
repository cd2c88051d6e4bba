"""Who each agency serves and what it records about them: one small function per agency.

Each function returns one row per row of the agency's drops: ``person_id`` (the primary
person), ``<role>_person_id`` for any further identity block, ``drop_file`` (a name matching the
declared file pattern), ``event_date`` (when the row's address was true), and every declared
content column under its declared name, typed (dates as Date, flags as Boolean). Identity
formatting, noise, record IDs and file writing are generic and live elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import polars as pl

from hub_assets.synth.population import REF_DATE
from hub_assets.synth.timeline import age_at, as_dates, day_numbers, days, monday_on_or_after, quarter_bounds, random_dates

Program = Callable[[pl.DataFrame, np.random.Generator], pl.DataFrame]
PROGRAMS: dict[str, Program] = {}


def program(fn: Program) -> Program:
    """Register ``fn`` as the behaviour its name says (an agency's ``synth.program``)."""
    PROGRAMS[fn.__name__] = fn
    return fn


def program_for(agency) -> Program:
    """The behaviour an agency's declaration names, or an error saying what is missing."""
    _load_agency_modules()
    name = agency.synth.program
    if name not in PROGRAMS:
        raise LookupError(
            f"agency {agency.name}: its declaration's synth.program is {name!r}, but no synthetic behaviour "
            f"of that name is registered; write a function `{name}` decorated with @program in a module of "
            f"hub_assets/synth/agencies/ (registered: {', '.join(sorted(PROGRAMS))})")
    return PROGRAMS[name]


def _load_agency_modules() -> None:
    """Import every module of ``hub_assets.synth.agencies``, each registering an agency's
    behaviour with ``@program``, so a new agency's behaviour is one new module."""
    import importlib
    import pkgutil

    from hub_assets.synth import agencies

    for module in pkgutil.iter_modules(agencies.__path__):
        importlib.import_module(f"{agencies.__name__}.{module.name}")


def _pick(values: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(values)[rng.integers(0, len(values), n)]


def _short(csa: pl.Expr) -> pl.Expr:
    return csa.str.split("/").list.first()


def _binned(day_col: pl.Expr, edges: list[tuple[date, str]]) -> pl.Expr:
    """The drop a row belongs to: the first (cut-off date, file) whose cut-off is on or after its date."""
    expr = pl.lit(None, pl.String)
    for cutoff, name in reversed(edges):
        expr = pl.when(day_col <= pl.lit(cutoff)).then(pl.lit(name)).otherwise(expr)
    return expr


HIGH_SCHOOLS = [
    "Frederick Douglass High School", "Baltimore Polytechnic Institute", "Western High School",
    "Patterson High School", "Edmondson-Westside High School", "Digital Harbor High School",
    "Mergenthaler Vocational-Technical High School", "Carver Vocational-Technical High School",
    "Forest Park High School", "Reginald F. Lewis High School", "Benjamin Franklin High School",
    "Baltimore City College", "Paul Laurence Dunbar High School", "New Era Academy",
    "Augusta Fells Savage Institute", "Green Street Academy",
]


@program
def city_schools(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    years = [("2024-25", date(2024, 8, 26), [date(2024, 10, 31), date(2025, 3, 31)]),
             ("2025-26", date(2025, 8, 25), [date(2025, 10, 31), date(2026, 3, 31)])]
    students = city.filter(pl.col("in_school")).with_columns(
        retained=pl.Series(rng.random(city["in_school"].sum()) < 0.10))
    frames = []
    for label, start, snapshots in years:
        sep1 = date(start.year, 9, 1)
        s = students.with_columns(grade_n=age_at(pl.col("dob"), sep1) - 5 - pl.col("retained").cast(pl.Int32))
        s = s.filter(pl.col("grade_n").is_between(0, 12) & (pl.Series(rng.random(s.height)) > 0.03))
        n = s.height
        late = rng.random(n) < 0.08
        entry = np.where(late, day_numbers(random_dates(start + timedelta(days=14), date(start.year + 1, 2, 28), n, rng)),
                         days(start))
        leaves = rng.random(n) < 0.05
        exit_ = np.where(leaves, entry + rng.integers(40, 200, n), -1)
        mv = np.where(s["hmis_family"].to_numpy(), rng.random(n) < 0.8, rng.random(n) < 0.012)
        s = s.with_columns(
            SCHOOL_YEAR=pl.lit(label), entry=pl.Series(entry), exit=pl.Series(exit_),
            GRADE=pl.when(pl.col("grade_n") == 0).then(pl.lit("KG")).otherwise(pl.col("grade_n").cast(pl.String).str.zfill(2)),
            MCKINNEY_VENTO=pl.Series(mv),
        ).with_columns(
            school_key=pl.when(pl.col("grade_n") >= 9)
            .then(pl.lit("H") + (pl.col("propensity") * len(HIGH_SCHOOLS)).floor().cast(pl.Int32).cast(pl.String))
            .when(pl.col("grade_n") >= 6).then(pl.lit("M|") + pl.col("csa"))
            .otherwise(pl.lit("E|") + pl.col("csa")))
        for snap in snapshots:
            rows = s.filter((pl.col("entry") <= days(snap)))
            frames.append(rows.with_columns(
                drop_file=pl.lit(f"cps_enrollment_{snap:%Y-%m}.csv"), event_date=pl.lit(snap),
                ENTRY_DATE=pl.col("entry").cast(pl.Date),
                EXIT_DATE=pl.when((pl.col("exit") >= 0) & (pl.col("exit") <= days(snap))).then(pl.col("exit")).cast(pl.Date),
            ).filter(pl.col("EXIT_DATE").is_null() | (pl.col("EXIT_DATE") <= pl.lit(snap))))
    rows = pl.concat(frames)
    schools = _school_directory(rows["school_key"].unique().sort())
    rows = rows.join(schools, on="school_key", how="left", maintain_order="left")
    return rows.select("person_id", "drop_file", "event_date", "SCHOOL_YEAR", "SCHOOL_ID", "SCHOOL_NAME",
                       "GRADE", "ENTRY_DATE", "EXIT_DATE", "MCKINNEY_VENTO")


def _school_directory(keys: pl.Series) -> pl.DataFrame:
    """School ID and name for each school key (high school index, or band + CSA)."""
    def name(key: str) -> str:
        if key.startswith("H"):
            return HIGH_SCHOOLS[int(key[1:])]
        band, csa = key.split("|")
        place = csa.split("/")[0].split("-")[0]
        return f"{place} {'Middle School' if band == 'M' else 'Elementary School'}"
    keys_list = keys.to_list()
    return pl.DataFrame({"school_key": keys_list,
                         "SCHOOL_ID": [f"{i + 1:03d}" for i in range(len(keys_list))],
                         "SCHOOL_NAME": [name(k) for k in keys_list]})


@program
def rec_parks(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    kids = city.filter(age_at(pl.col("dob"), date(2025, 6, 1)).is_between(5, 17) & (pl.col("propensity") < 0.15))
    n_regs = rng.integers(1, 4, kids.height)
    regs = kids.select(pl.all().repeat_by(pl.Series(n_regs)).explode())
    n = regs.height
    kind = _pick(["Camp", "Camp", "League", "Class", "Drop-in", "Aquatics"], n, rng)
    year = np.where(rng.random(n) < 0.5, 2025, 2026)
    summer = (kind == "Camp") | (rng.random(n) < 0.3)
    camp_start = np.array([days(monday_on_or_after(date(y, 6, 23))) for y in (2025, 2026)])[year - 2025]
    start = np.where(summer, camp_start + 7 * rng.integers(0, 7, n),
                     np.array([days(date(y, 3, 2)) for y in (2025, 2026)])[year - 2025] + rng.integers(0, 60, n))
    length = np.select([kind == "Camp", kind == "League", kind == "Drop-in"], [4, 70, 0], 42)
    program_name = np.char.add(np.char.add(kind.astype(str), np.where(summer, " - Summer ", " - Spring ")), year.astype(str))
    regs = regs.with_columns(
        Program=pl.Series(program_name), ProgramType=pl.Series(kind),
        Site=pl.concat_str(_short(pl.col("csa")), pl.lit(" Recreation Center")),
        StartDate=as_dates(start), EndDate=as_dates(start + length),
        RegistrationID=pl.format("R{}", pl.Series(rng.permutation(n) + 10_000_000).cast(pl.String)),
    ).with_columns(event_date=pl.col("StartDate"),
                   drop_file=pl.concat_str(pl.lit("recparks_registrations_"), pl.col("StartDate").dt.year().cast(pl.String),
                                           pl.lit(pl.Series(np.where(summer, "-08-31.csv", "-05-31.csv")))))
    return regs.select("person_id", "drop_file", "event_date", "RegistrationID", "Program", "ProgramType", "Site",
                       "StartDate", "EndDate")


WORKSITES = ["Baltimore City Recreation", "Enoch Pratt Free Library", "Johns Hopkins Hospital",
             "University of Maryland Medical Center", "Baltimore Museum of Art", "Living Classrooms",
             "National Aquarium", "City Hall", "Parks & People", "Baltimore Gas and Electric",
             "Maryland Zoo", "Port Discovery"]
SECTORS = ["Public", "Nonprofit", "Private", "Nonprofit", "Nonprofit", "Nonprofit", "Nonprofit",
           "Public", "Nonprofit", "Private", "Nonprofit", "Nonprofit"]


@program
def youthworks(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for summer in (2025, 2026):
        eligible = city.filter(age_at(pl.col("dob"), date(summer, 6, 1)).is_between(14, 21)
                               & pl.col("is_youth") & ~pl.col("disconnected"))
        chosen = eligible.filter(pl.Series(rng.random(eligible.height) < 0.17))
        n = chosen.height
        site = rng.integers(0, len(WORKSITES), n)
        start = days(monday_on_or_after(date(summer, 6, 29))) + rng.integers(0, 8, n)
        weeks = rng.integers(5, 7, n)
        hours = np.round(weeks * rng.uniform(18, 25, n), 1)
        frames.append(chosen.with_columns(
            summer=pl.lit(summer), worksite=pl.Series(np.array(WORKSITES)[site]),
            worksite_sector=pl.Series(np.array(SECTORS)[site]),
            start_date=as_dates(start), end_date=as_dates(start + 7 * weeks - 3),
            hours_worked=pl.Series(hours), wages_paid=pl.Series(np.round(hours * 15.0, 2)),
            drop_file=pl.lit(f"youthworks_{summer}.csv"), event_date=pl.lit(date(summer, 7, 1)),
        ))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", "summer", "worksite", "worksite_sector",
                                    "start_date", "end_date", "hours_worked", "wages_paid")


GRANTEES = ["Kids Safe Zone", "Dent Education", "Baltimore Youth Arts", "Wide Angle Youth Media",
            "Code in the Schools", "Mentoring Male Teens in the Hood", "Baltimore Urban Debate League",
            "Soccer Without Borders", "Thread", "Creative Alliance"]


@program
def summer_funding(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for summer in (2025, 2026):
        eligible = city.filter(age_at(pl.col("dob"), date(summer, 6, 1)).is_between(5, 18) & pl.col("is_youth"))
        chosen = eligible.filter(pl.Series(rng.random(eligible.height) < 0.10))
        n = chosen.height
        g = rng.integers(0, len(GRANTEES), n)
        start = days(monday_on_or_after(date(summer, 6, 16))) + 7 * rng.integers(0, 4, n)
        weeks = rng.integers(3, 8, n)
        frames.append(chosen.with_columns(
            grantee=pl.Series(np.array(GRANTEES)[g]),
            program_name=pl.Series(np.char.add(np.array(GRANTEES)[g], " Summer Program")),
            summer=pl.lit(summer), program_start=as_dates(start), program_end=as_dates(start + 7 * weeks - 3),
            days_attended=pl.Series(np.minimum(rng.poisson(weeks * 4), weeks * 5)),
            # Grantees in the first half of the list report in the first batch.
            drop_file=pl.Series(np.where(g < len(GRANTEES) // 2, f"sfc_roster_{summer}_a.csv", f"sfc_roster_{summer}_b.csv")),
            event_date=pl.lit(date(summer, 7, 1)),
        ))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", "grantee", "program_name", "summer",
                                    "program_start", "program_end", "days_attended")


PROVIDERS = ["Higher Achievement", "Boys & Girls Club", "Child First Authority", "YMCA of Central Maryland",
             "Elev8 Baltimore", "Parks & People", "Playworks"]


@program
def family_league(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    sessions = [(2025, 3, "summer"), (2025, 4, "after_school"), (2026, 1, "after_school"),
                (2026, 2, "after_school"), (2026, 3, "summer")]
    kids = city.filter(age_at(pl.col("dob"), date(2025, 9, 1)).is_between(5, 14)
                       & (pl.col("propensity") > 0.30) & (pl.col("propensity") <= 0.40))
    frames = []
    for year, q, kind in sessions:
        attend = kids.filter(pl.Series(rng.random(kids.height) < 0.55))
        n = attend.height
        q_start, q_end = quarter_bounds(year, q)
        start = (date(year, 6, 30) if kind == "summer" else q_start)
        end = (date(year, 8, 8) if kind == "summer" else q_end)
        prov = rng.integers(0, len(PROVIDERS), n)
        frames.append(attend.with_columns(
            provider=pl.Series(np.array(PROVIDERS)[prov]),
            program=pl.Series(np.char.add(np.array(PROVIDERS)[prov], " " + kind.replace("_", "-") + " program")),
            session_type=pl.lit(kind), session_start=pl.lit(start), session_end=pl.lit(end),
            days_attended=pl.Series(rng.integers(1, 45, n)),
            drop_file=pl.lit(f"fl_ost_{year}Q{q}.csv"), event_date=pl.lit(start),
        ))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", "provider", "program", "session_type",
                                    "session_start", "session_end", "days_attended")


@program
def child_welfare(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    kids = city.filter(pl.col("foster"))
    n = kids.height
    dob = day_numbers(kids["dob"])
    removal = day_numbers(random_dates(np.maximum(dob, days(date(2016, 1, 1))), np.full(n, days(REF_DATE) - 20), n, rng))
    n_place = rng.integers(1, 4, n)
    rows = kids.with_columns(removal=pl.Series(removal)).select(pl.all().repeat_by(pl.Series(n_place)).explode())
    m = rows.height
    duration = np.ceil(rng.exponential(320, m)).astype(np.int64) + 10
    rows = rows.with_columns(duration=pl.Series(duration)).with_columns(
        placement_start=(pl.col("removal") + pl.col("duration").cum_sum().over("person_id") - pl.col("duration")))
    rows = rows.filter(pl.col("placement_start") < days(REF_DATE)).with_columns(
        placement_end=pl.col("placement_start") + pl.col("duration"))
    m = rows.height
    edges = [(date(2025, 6, 30), "dss_placements_2025-06.csv"), (date(2025, 12, 31), "dss_placements_2025-12.csv"),
             (date(2026, 6, 30), "dss_placements_2026-06.csv"), (REF_DATE, "dss_placements_2026-09.csv")]
    rows = rows.with_columns(
        removal_date=pl.col("removal").cast(pl.Date), placement_start=pl.col("placement_start").cast(pl.Date),
        placement_end=pl.col("placement_end").cast(pl.Date),
        placement_type=pl.Series(_pick(["FOSTER_FAMILY"] * 4 + ["KINSHIP"] * 3 + ["GROUP_HOME", "INSTITUTION",
                                                                                 "INDEPENDENT_LIVING"], m, rng)),
    ).with_columns(drop_file=_binned(pl.col("placement_start"), edges), event_date=pl.col("removal_date"))
    # An append file carries what was known when it was sent: a later end is not yet known.
    cut = pl.col("drop_file").str.extract(r"(\d{4}-\d{2})").str.to_date("%Y-%m").dt.month_end()
    rows = rows.with_columns(placement_end=pl.when(pl.col("placement_end") <= cut).then("placement_end"))
    return rows.select("person_id", "drop_file", "event_date", "removal_date", "placement_type", "placement_start",
                       "placement_end")


@program
def juvenile_services(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    youth = city.filter(pl.col("djs"))
    n_intakes = np.where(rng.random(youth.height) < 0.7, 1, rng.integers(2, 4, youth.height))
    rows = youth.select(pl.all().repeat_by(pl.Series(n_intakes)).explode())
    m = rows.height
    dob = day_numbers(rows["dob"])
    lo = np.maximum(dob + int(12 * 365.25), days(date(2019, 1, 1)))
    hi = np.minimum(dob + int(18 * 365.25) - 1, days(REF_DATE) - 5)
    rows = rows.with_columns(INTAKE_DATE=random_dates(lo, np.maximum(hi, lo), m, rng)).filter(
        pl.Series(hi >= lo))
    m = rows.height
    edges = [(date(2025, 6, 30), "djs_intakes_2025Q2.txt"), (date(2025, 12, 31), "djs_intakes_2025Q4.txt"),
             (date(2026, 3, 31), "djs_intakes_2026Q1.txt"), (date(2026, 6, 30), "djs_intakes_2026Q2.txt"),
             (REF_DATE, "djs_intakes_2026Q3.txt")]
    return rows.with_columns(
        OFFENSE_CATEGORY=pl.Series(_pick(["PERSON", "PROPERTY", "PROPERTY", "DRUG", "WEAPON", "PUBLIC_ORDER",
                                          "VIOLATION"], m, rng)),
        INTAKE_DECISION=pl.Series(_pick(["DISMISSED", "INFORMAL", "INFORMAL", "FORMAL", "DETAINED"], m, rng)),
        drop_file=_binned(pl.col("INTAKE_DATE"), edges), event_date=pl.col("INTAKE_DATE"),
    ).select("person_id", "drop_file", "event_date", "INTAKE_DATE", "OFFENSE_CATEGORY", "INTAKE_DECISION")


@program
def hmis(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    families = city.filter(pl.col("hmis_family"))
    youth = city.filter(pl.col("hmis_youth"))
    stays = pl.concat([
        families.with_columns(hh=pl.col("household_id"),
                              head=pl.col("kind") == "mother"),
        youth.with_columns(hh=pl.col("person_id"), head=pl.lit(True)),
    ])
    hh = stays.select("hh").unique(maintain_order=True)
    k = hh.height
    n_enroll = np.where(rng.random(k) < 0.8, 1, 2)
    entry = day_numbers(random_dates(date(2024, 10, 1), date(2026, 9, 15), int(n_enroll.sum()), rng))
    episodes = hh.select(pl.all().repeat_by(pl.Series(n_enroll)).explode()).with_columns(
        entry=pl.Series(entry), project=pl.Series(_pick(["ES", "ES", "ES", "TH", "RRH", "SO", "PSH"], len(entry), rng)),
        stay=pl.Series(rng.integers(20, 300, len(entry))),
        HouseholdID=pl.format("HH{}", pl.Series(rng.permutation(len(entry)) + 500_000).cast(pl.String)))
    rows = stays.join(episodes, on="hh", how="inner", maintain_order="left")
    m = rows.height
    exit_ = day_numbers(rows["entry"].cast(pl.Date)) + rows["stay"].to_numpy()
    edges = [(date(2025, 3, 31), "hmis_enrollments_2025-03.csv"), (date(2025, 9, 30), "hmis_enrollments_2025-09.csv"),
             (date(2026, 3, 31), "hmis_enrollments_2026-03.csv"), (REF_DATE, "hmis_enrollments_2026-09.csv")]
    rows = rows.with_columns(
        EnrollmentID=pl.format("E{}", pl.Series(rng.permutation(m) + 1_000_000).cast(pl.String)),
        RelationshipToHoH=pl.when(pl.col("head")).then(1).when(pl.col("age_now") < 18).then(2).otherwise(5),
        ProjectType=pl.col("project"), EntryDate=pl.col("entry").cast(pl.Date),
        ExitDate=pl.Series(exit_).cast(pl.Date),
    ).with_columns(drop_file=_binned(pl.col("EntryDate"), edges), event_date=pl.col("EntryDate"))
    cut = pl.col("drop_file").str.extract(r"(\d{4}-\d{2})").str.to_date("%Y-%m").dt.month_end()
    rows = rows.with_columns(ExitDate=pl.when(pl.col("ExitDate") <= cut).then("ExitDate"))
    return rows.select("person_id", "drop_file", "event_date", "EnrollmentID", "HouseholdID", "RelationshipToHoH",
                       "ProjectType", "EntryDate", "ExitDate")


DEVELOPMENTS = ["Perkins Homes", "Poe Homes", "Gilmor Homes", "McCulloh Homes", "Douglass Homes",
                "Latrobe Homes", "Cherry Hill Homes", "Brooklyn Homes", "O'Donnell Heights", "Westport Homes"]


@program
def public_housing(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    members = city.filter(pl.col("public_housing"))
    hh = members.select("household_id").unique(maintain_order=True)
    k = hh.height
    is_ph = rng.random(k) < 0.4
    hh = hh.with_columns(
        program=pl.Series(np.where(is_ph, "PUBLIC_HOUSING", "HCV")),
        development=pl.Series(_pick(DEVELOPMENTS, k, rng)).set(pl.Series(~is_ph), None),
        move_in_date=random_dates(date(2010, 1, 1), date(2026, 9, 1), k, rng),
        leaves=pl.Series(np.where(rng.random(k) < 0.15, rng.integers(1, 4, k), 99)),
        member_hh_id=pl.format("HA{}", pl.Series(rng.permutation(k) + 200_000).cast(pl.String)),
    )
    members = members.join(hh, on="household_id", how="inner", maintain_order="left")
    head = pl.col("kind") == "mother"
    head = head | (pl.col("person_id") == pl.col("person_id").filter(pl.col("age_now") == pl.col("age_now").max())
                   .first().over("household_id")) & (pl.col("kind") != "mother").all().over("household_id")
    members = members.with_columns(
        relationship=pl.when(head).then(pl.lit("HEAD")).when(pl.col("kind") == "child").then(pl.lit("CHILD"))
        .when(pl.col("age_now") < 18).then(pl.lit("OTHER_YOUTH")).otherwise(pl.lit("OTHER_ADULT")))
    frames = []
    for i, (year, q) in enumerate([(2025, 4), (2026, 1), (2026, 2), (2026, 3)]):
        snap = quarter_bounds(year, q)[1]
        frames.append(members.filter((pl.col("move_in_date") <= pl.lit(snap)) & (pl.col("leaves") > i)).with_columns(
            snapshot_date=pl.lit(snap), drop_file=pl.lit(f"ha_households_{year}Q{q}.csv"), event_date=pl.lit(snap)))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", pl.col("member_hh_id").alias("household_id"),
                                    "relationship", "program", "development", "move_in_date", "snapshot_date")


@program
def vital_records(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    born = city.filter(pl.col("dob").is_between(date(2022, 1, 1), date(2026, 6, 30))
                       & pl.col("mother_person_id").is_not_null())
    born = born.filter(pl.Series(rng.random(born.height) < 0.93))  # the rest were born outside the city
    n = born.height
    twin = born["is_twin"].to_numpy()
    began = np.where(rng.random(n) < 0.04, 0, np.clip(rng.poisson(2.5, n) + 1, 1, 9))
    return born.with_columns(
        mother_person_id=pl.col("mother_person_id"),
        prenatal_care_began_month=pl.Series(began),
        prenatal_visits=pl.Series(np.where(began == 0, 0, np.clip(rng.poisson(11, n) - began, 1, 20))),
        birth_weight_grams=pl.Series(np.round(rng.normal(np.where(twin, 2500, 3200), 500, n)).astype(np.int64)),
        plurality=pl.Series(np.where(twin, 2, 1)),
        drop_file=pl.when(pl.col("dob") >= pl.lit(date(2026, 1, 1))).then(pl.lit("vital_births_2026H1.csv"))
        .otherwise(pl.format("vital_births_{}.csv", pl.col("dob").dt.year())),
        event_date=pl.col("dob"),
    ).select("person_id", "mother_person_id", "drop_file", "event_date", "prenatal_care_began_month",
             "prenatal_visits", "birth_weight_grams", "plurality")


@program
def early_childhood(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for year in (2024, 2025, 2026):
        label = f"{year}-{(year + 1) % 100:02d}"
        age = age_at(pl.col("dob"), date(year, 9, 1))
        # A stable propensity keeps the same children enrolled from year to year.
        kids = city.filter(
            ((age.is_between(3, 4)) & (pl.col("propensity") < 0.45))
            | ((age <= 2) & (pl.col("propensity") < 0.06)))
        n = kids.height
        enroll = days(date(year, 9, 2)) + np.where(rng.random(n) < 0.85, 0, rng.integers(1, 20, n))
        frames.append(kids.with_columns(
            program_type=pl.when(age <= 2).then(pl.lit("EARLY_HEAD_START"))
            .when((age == 4) & (pl.col("propensity") < 0.3)).then(pl.lit("PRE_K")).otherwise(pl.lit("HEAD_START")),
            program_year=pl.lit(label), site=pl.concat_str(_short(pl.col("csa")), pl.lit(" Early Learning Center")),
            enroll_date=as_dates(enroll),
            exit_date=as_dates(enroll + rng.integers(20, 200, n)).set(pl.Series(rng.random(n) >= 0.05), None),
            drop_file=pl.lit(f"early_ed_{label}.csv"), event_date=pl.lit(date(year, 10, 1)),
        ))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", "program_type", "program_year", "site",
                                    "enroll_date", "exit_date")


NAICS = ["44", "45", "72", "72", "72", "62", "56", "61", "48", "31", "81", "92"]


@program
def wage_records(city: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for year, q in [(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1)]:
        start, end = quarter_bounds(year, q)
        workers = city.filter(((age_at(pl.col("dob"), start) >= 16) | ~pl.col("is_youth")) & (pl.col("work_p") > 0))
        workers = workers.filter(pl.Series(rng.random(workers.height) < workers["work_p"].to_numpy()))
        n = workers.height
        employer = rng.integers(0, 800, n)
        frames.append(workers.with_columns(
            YEAR_QTR=pl.lit(f"{year}Q{q}"), EMPLOYER_ID=pl.format("E{}", pl.Series(employer + 300_000).cast(pl.String)),
            NAICS2=pl.Series(np.array(NAICS)[employer % len(NAICS)]),
            WAGES=pl.Series(np.round(rng.gamma(2.0, 1500.0, n), 2)),
            drop_file=pl.lit(f"ui_wages_{year}Q{q}.csv"), event_date=pl.lit(end),
        ))
    return pl.concat(frames).select("person_id", "drop_file", "event_date", "YEAR_QTR", "EMPLOYER_ID", "NAICS2", "WAGES")
