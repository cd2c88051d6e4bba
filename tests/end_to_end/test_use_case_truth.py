"""Right answers: each use case's headline numbers, computed here straight from the synthetic
city's truth, agree with the marts within the error the linkage predicts.

The truth side reads the landing files exactly as delivered (with their declared delimiter,
encoding and date format) and takes WHO each row is from ``truth/rows.parquet`` — never from the
hub's linkage. The SQL below mirrors each mart's definition (same periods, same age rule, same
programmes) with ``person_id`` in place of ``person_key``, so any difference is the linkage's
error (or a mart bug, which is the point of these tests). Rows the intake quarantines
(``truth/problems.parquet``) are left out on both sides: they never reach the warehouse.

Tolerance: |mart - truth| <= truth x predicted relative error (hub_assets.linkage.error_model,
expected + 2 sd, from the linkage output only) + SLACK. Counts of the overlap of two systems
(crossover youth, youth in two or more summer programmes) change by one person per linkage
error among those systems' people, so their tolerance is the predicted number of errors
(not a rate of a small count).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from hub_assets.linkage.error_model import CountError, predict_count_error
from hub_assets.linkage.settings import MATCH_THRESHOLD
from hub_assets.sources.declaration import AgencySource, load_agencies

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]

# Absolute slack, in people. Not linkage: the marts age people from the spine's birth year and
# month, the majority of their records' (noisy: swapped day/month, missing DOB) dates, while the
# truth uses the real DOB; a person within a month of an age or birth-year boundary can fall on
# the other side. Two people covers that on a city this size without hiding a definition bug
# (a wrong period, age rule or programme moves tens of people).
SLACK = 2
Z = 2.0  # predicted error = expected + Z standard deviations

SUMMER_SOURCES = ("rec_parks", "youthworks", "summer_funding", "family_league")


# ----------------------------------------------------------------------------------------------
# Truth: the landing files, with the true person of every row.
# ----------------------------------------------------------------------------------------------

def read_landing(source: AgencySource, landing: Path, truth: Path) -> pl.DataFrame:
    """Every accepted row of an agency's drops: content columns (snake_case, typed) plus
    drop_file, row_number, record_id, person_id and mother_person_id from the truth."""
    frames = []
    for path in sorted((landing / source.name).iterdir()):
        text = path.read_bytes().decode(source.encoding)
        raw = pl.read_csv(text.encode(), separator=source.delimiter, infer_schema=False)
        frame = raw.with_row_index("row_number", offset=1).with_columns(
            pl.col("row_number").cast(pl.Int64), pl.lit(path.name).alias("drop_file"))
        frames.append(frame.select("drop_file", "row_number",
                                   *[_typed(source, c) for c in source.content]))
    rows = pl.concat(frames)
    who = pl.read_parquet(truth / "rows.parquet").filter(pl.col("agency") == source.name)
    quarantined = pl.read_parquet(truth / "problems.parquet").filter(pl.col("agency") == source.name)
    joined = rows.join(who.drop("agency"), on=["drop_file", "row_number"], how="left")
    assert joined["person_id"].null_count() == 0, f"{source.name}: a landing row has no truth"
    return joined.join(quarantined.select("drop_file", "row_number"), on=["drop_file", "row_number"],
                       how="anti")


def _typed(source: AgencySource, column) -> pl.Expr:
    value = pl.col(column.name).str.strip_chars()
    if column.type == "date":
        value = value.str.to_date(source.date_format, strict=False)
    elif column.type == "int":
        value = value.cast(pl.Int64, strict=False)
    elif column.type == "float":
        value = value.cast(pl.Float64, strict=False)
    elif column.type == "bool":
        upper = value.str.to_uppercase()
        value = (pl.when(upper.is_in(list(column.true_values))).then(True)
                 .when(upper.is_in(list(column.false_values))).then(False))
    return value.alias(column.file_name)


MACROS = """
create macro summer_start(y) as
    make_date(cast(y as integer), 6, 15) + cast((8 - isodow(make_date(cast(y as integer), 6, 15))) % 7 as integer);
create macro summer_end(y) as summer_start(y) + 69;
create macro school_year_start(sy) as make_date(cast(left(sy, 4) as integer), 8, 1);
create macro school_year_end(sy) as make_date(cast(left(sy, 4) as integer) + 1, 8, 1) - 1;
create macro quarter_start(q) as make_date(cast(left(q, 4) as integer), 3 * cast(right(q, 1) as integer) - 2, 1);
create macro quarter_end(q) as cast(quarter_start(q) + interval 3 month as date) - 1;
create macro age_at(birth_year, birth_month, d) as
    year(cast(d as date)) - birth_year - case when month(cast(d as date)) < coalesce(birth_month, 7) then 1 else 0 end;
create macro age_band(age) as case when age is null or age < 0 then 'unknown' when age <= 4 then '0-4'
    when age <= 10 then '5-10' when age <= 13 then '11-13' when age <= 15 then '14-15'
    when age <= 17 then '16-17' when age <= 19 then '18-19' when age <= 24 then '20-24' else '25+' end;
"""


@pytest.fixture(scope="module")
def truth_db(built_hub) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with one table per agency (content + true person) and the true spine."""
    assert built_hub.returncode == 0, built_hub.output[-4000:]
    con = duckdb.connect()
    con.execute(MACROS)
    people = set()
    for source in load_agencies():
        rows = read_landing(source, built_hub.paths.landing, built_hub.truth)
        con.register(f"_{source.name}", rows.to_arrow())
        con.execute(f"create table {source.name} as select * from _{source.name}")
        people |= set(rows["person_id"]) | set(rows.get_column("mother_person_id").drop_nulls()
                                                if "mother_person_id" in rows.columns else [])
    persons = pl.read_parquet(built_hub.truth / "persons.parquet")
    # A person whose every record was delivered without a DOB has no age in the hub either:
    # that is the data, not the linkage, so the truth side does not know their age.
    records = pl.read_parquet(built_hub.truth / "records.parquet")
    undated = records.group_by("person_id").agg(
        pl.col("noise").list.contains("missing_dob").all().alias("undated"))
    # The spine holds everyone some accepted row names: the same people, by truth.
    spine = (persons.filter(pl.col("person_id").is_in(pl.Series(sorted(people)).implode()))
             .join(undated, on="person_id", how="left")
             .select("person_id",
                     pl.when(pl.col("undated")).then(None).otherwise(pl.col("dob").dt.year()).alias("birth_year"),
                     pl.when(pl.col("undated")).then(None).otherwise(pl.col("dob").dt.month()).alias("birth_month")))
    con.register("_spine", spine.to_arrow())
    con.execute("create table spine as select * from _spine")
    _snapshot_dedup(con)
    yield con
    con.close()


def _snapshot_dedup(con: duckdb.DuckDBPyConnection) -> None:
    """Snapshot agencies resend their roster: keep each row once, from the latest drop, with
    the staging models' keys (record_id stands in for record_token: one token per record id)."""
    keys = {"city_schools": "record_id, school_year, school_id, entry_date",
            "early_childhood": "record_id, program_year, program_type, site, enroll_date",
            "public_housing": "record_id, household_id, snapshot_date"}
    for table, partition in keys.items():
        con.execute(f"create or replace table {table} as select * from {table} qualify row_number() "
                    f"over (partition by {partition} order by drop_file desc, row_number) = 1")


@pytest.fixture(scope="module")
def marts(built_hub) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def linkage(built_hub) -> dict:
    """The linkage output the error model reads (identity zone), loaded once."""
    con = duckdb.connect(str(built_hub.paths.identity_db), read_only=True)
    out = {"pairs": con.sql("select * from linkage_pairs").pl(),
           "keys": con.sql("select * from person_keys").pl(),
           "records": con.sql("select record_token, source, dob from current_records").pl()}
    con.close()
    return out


def predicted(linkage: dict, sources=None, records: pl.Series | None = None) -> CountError:
    if sources is not None:
        records = linkage["records"].filter(pl.col("source").is_in(list(sources)))["record_token"]
    return predict_count_error(linkage["pairs"], linkage["keys"], MATCH_THRESHOLD, records)


def assert_within(name: str, mart: int, truth: int, allowed: float) -> None:
    print(f"{name}: mart={mart} truth={truth} |diff|={abs(mart - truth)} allowed={allowed:.1f}")
    assert abs(mart - truth) <= allowed, (
        f"{name}: mart {mart} vs truth {truth}: |difference| {abs(mart - truth)} exceeds the "
        f"predicted linkage error {allowed:.1f}")


def union_tolerance(error: CountError, truth: int) -> float:
    return truth * error.relative_error(Z) + SLACK


def overlap_tolerance(error: CountError) -> float:
    # Each missed or false link among these people moves an overlap count by at most one person.
    return error.relative_error(Z) * error.n_persons + SLACK


# ----------------------------------------------------------------------------------------------
# 1. Summer engagement: unduplicated youth across all summer providers, and the overlap.
# ----------------------------------------------------------------------------------------------

SUMMER_TRUTH = """
with episodes as (
    select person_id, 'rec_parks' as provider, year(start_date) as summer_year,
           start_date <= summer_end(year(start_date))
               and coalesce(end_date, start_date) >= summer_start(year(start_date)) as is_summer
    from rec_parks
    union all select person_id, 'youthworks', cast(summer as integer), true from youthworks
    union all select person_id, 'summer_funding', cast(summer as integer), true from summer_funding
    union all select person_id, 'family_league', year(session_start), session_type = 'summer' from family_league
),
per_youth as (
    select person_id, summer_year, count(distinct provider) as providers_used
    from episodes where is_summer and person_id in (select person_id from spine)
    group by all
)
select summer_year, count(*) as participants,
       count(*) filter (where providers_used >= 2) as participants_in_two_or_more
from per_youth group by summer_year order by summer_year
"""


def test_unduplicated_summer_participants_match_the_truth(truth_db, marts, linkage):
    truth = {y: (n, two) for y, n, two in truth_db.execute(SUMMER_TRUTH).fetchall()}
    mart = {y: (n, two) for y, n, two in marts.execute(
        "select summer_year, participants, participants_in_two_or_more "
        "from marts.summer_engagement_overview").fetchall()}
    assert set(mart) == set(truth) and truth, (mart, truth)
    error = predicted(linkage, SUMMER_SOURCES)
    for year, (participants, _) in truth.items():
        assert_within(f"summer {year} participants", mart[year][0], participants,
                      union_tolerance(error, participants))


def test_summer_youth_in_two_or_more_programmes_match_the_truth(truth_db, marts, linkage):
    truth = {y: two for y, _, two in truth_db.execute(SUMMER_TRUTH).fetchall()}
    mart = dict(marts.execute("select summer_year, participants_in_two_or_more "
                          "from marts.summer_engagement_overview").fetchall())
    error = predicted(linkage, SUMMER_SOURCES)
    for year, two in truth.items():
        assert_within(f"summer {year} in 2+ programmes", mart[year], two, overlap_tolerance(error))


# ----------------------------------------------------------------------------------------------
# 2. Students experiencing homelessness: the schools' flag, and any of the three sources.
# ----------------------------------------------------------------------------------------------

HOMELESSNESS_TRUTH = """
with enrolments as (
    select person_id, school_year, school_id, mckinney_vento,
           greatest(entry_date, school_year_start(school_year)) as window_start,
           least(coalesce(exit_date, school_year_end(school_year)), school_year_end(school_year)) as window_end
    from city_schools
),
students as (
    select person_id, school_year, school_id,
           coalesce(bool_or(mckinney_vento), false) as flagged,
           min(window_start) as window_start, max(window_end) as window_end
    from enrolments group by all
),
housing as (
    select person_id, coalesce(min(move_in_date), min(snapshot_date)) as start_date,
           max(snapshot_date) as end_date
    from public_housing group by person_id, household_id
),
status as (
    select students.person_id, students.school_year, students.flagged,
           exists (select 1 from hmis where hmis.person_id = students.person_id
                   and hmis.entry_date <= students.window_end
                   and coalesce(hmis.exit_date, students.window_end) >= students.window_start) as in_hmis,
           exists (select 1 from housing where housing.person_id = students.person_id
                   and housing.start_date <= students.window_end
                   and housing.end_date >= students.window_start) as in_housing
    from students
)
select school_year,
       count(distinct person_id) as enrolled_students,
       count(distinct person_id) filter (where flagged) as mckinney_vento_students,
       count(distinct person_id) filter (where flagged or in_hmis or in_housing) as identified_students
from status where person_id in (select person_id from spine)
group by school_year order by school_year
"""


def test_students_experiencing_homelessness_match_the_truth(truth_db, marts, linkage):
    truth = {row[0]: row[1:] for row in truth_db.execute(HOMELESSNESS_TRUTH).fetchall()}
    mart = {row[0]: row[1:] for row in marts.execute(
        "select school_year, enrolled_students, mckinney_vento_students, identified_students "
        "from marts.student_homelessness_citywide").fetchall()}
    assert set(mart) == set(truth) and truth, (mart, truth)
    students = predicted(linkage, ["city_schools"])
    # Identified-by-any-source is flag OR a match of a student to HMIS / public housing: one
    # person per linkage error among the people of those three systems.
    joined = predicted(linkage, ["city_schools", "hmis", "public_housing"])
    for year, (enrolled, flagged, identified) in truth.items():
        assert_within(f"{year} enrolled students", mart[year][0], enrolled,
                      union_tolerance(students, enrolled))
        assert_within(f"{year} McKinney-Vento students", mart[year][1], flagged,
                      union_tolerance(students, flagged))
        assert_within(f"{year} identified by any source", mart[year][2], identified,
                      overlap_tolerance(joined))


# ----------------------------------------------------------------------------------------------
# 3. Crossover youth: touched both child welfare and juvenile services.
# ----------------------------------------------------------------------------------------------

def test_crossover_youth_match_the_truth(truth_db, marts, linkage):
    truth = truth_db.execute("""
        select count(*) from (
            select person_id from child_welfare intersect select person_id from juvenile_services)
        where person_id in (select person_id from spine)""").fetchone()[0]
    mart = marts.execute("select sum(crossover_youth) from marts.crossover_youth_by_sequence").fetchone()[0]
    error = predicted(linkage, ["child_welfare", "juvenile_services"])
    assert_within("crossover youth", int(mart or 0), truth, overlap_tolerance(error))


# ----------------------------------------------------------------------------------------------
# 4. Opportunity youth: 16-24 at the period start, not enrolled in the current school year,
#    no wages in the latest four quarters.
# ----------------------------------------------------------------------------------------------

OPPORTUNITY_TRUTH = """
with period as (
    select quarter_start(q) - interval 9 month as period_start, quarter_end(q) as period_end, q
    from (select max(year_qtr) as q from wage_records)
),
enrolled as (
    select distinct person_id from city_schools, period
    where school_year_start(school_year) <= period_end and school_year_end(school_year) >= period_end
),
working as (
    select distinct person_id from wage_records, period
    where wages > 0 and quarter_start(year_qtr) between period_start and period_end
),
youth as (
    select spine.person_id, age_at(birth_year, birth_month, period_start) as age
    from spine, period
)
select count(*) as youth_16_24,
       count(*) filter (where person_id not in (select person_id from enrolled)
                          and person_id not in (select person_id from working)) as opportunity_youth
from youth where age between 16 and 24
"""


# Open defect, tracked on the use-cases issue: not strict, because on some builds (other
# secret keys, other tie-breaks) the count lands inside the predicted band and the test passes.
def test_opportunity_youth_match_the_truth(truth_db, marts, linkage):
    # The hard part: a youth who works shows up as idle if their wage record (no sex, no street
    # address, a quarter without a DOB) is not linked to them; SSNs carry most of those links.
    youth, opportunity = truth_db.execute(OPPORTUNITY_TRUTH).fetchone()
    mart_youth, mart_opportunity = marts.execute(
        "select youth_16_24, opportunity_youth from marts.opportunity_youth_by_group "
        "where dimension = 'all'").fetchone()
    # The errors that matter are among youth of about that age (a split-off record of a
    # student or worker looks like one more idle youth): records with a DOB 15-26 years back.
    records = linkage["records"].filter(
        pl.col("dob").is_null() | pl.col("dob").cast(pl.Date).dt.year().is_between(1998, 2011))
    error = predicted(linkage, records=records["record_token"])
    assert_within("youth 16-24", mart_youth, youth, union_tolerance(error, youth))
    assert_within("opportunity youth", mart_opportunity, opportunity, overlap_tolerance(error))


# ----------------------------------------------------------------------------------------------
# 5. Young parents (mothers 24 or under at the birth) and their children's early childhood.
# ----------------------------------------------------------------------------------------------

YOUNG_PARENTS_TRUTH = """
with births as (
    select vital.person_id as child_id, vital.mother_person_id as mother_id,
           child.birth_year as child_birth_year,
           age_at(mother.birth_year, mother.birth_month,
                  make_date(child.birth_year, coalesce(child.birth_month, 7), 1)) as mother_age
    from vital_records as vital
    join spine as child on child.person_id = vital.person_id
    join spine as mother on mother.person_id = vital.mother_person_id
),
early as (
    select person_id, bool_or(program_type in ('HEAD_START', 'EARLY_HEAD_START', 'PRE_K')) as any_early
    from early_childhood group by person_id
),
per_year as (
    select child_birth_year,
           count(distinct mother_id) as mothers,
           count(distinct child_id) filter (where early.any_early) as children_in_early_childhood
    from births left join early on early.person_id = births.child_id
    where mother_age <= 24
    group by child_birth_year, age_band(mother_age)
)
select sum(mothers), sum(children_in_early_childhood) from per_year
"""


def test_young_parents_and_their_childrens_early_childhood_match_the_truth(truth_db, marts, linkage):
    mothers, children_early = truth_db.execute(YOUNG_PARENTS_TRUTH).fetchone()
    mart_mothers, mart_children_early = marts.execute(
        "select sum(mothers), sum(children_in_early_childhood) from marts.young_parents_outcomes "
        "where is_young_parent").fetchone()
    # Mothers are counted from the vital records' mother blocks; a child reaches early
    # childhood through a link between a birth record and an early-childhood record.
    error = predicted(linkage, ["vital_records_mother"])
    children = predicted(linkage, ["vital_records", "early_childhood"])
    assert_within("young parents", int(mart_mothers), int(mothers), union_tolerance(error, int(mothers)))
    assert_within("their children in Head Start / pre-K", int(mart_children_early), int(children_early),
                  overlap_tolerance(children))
