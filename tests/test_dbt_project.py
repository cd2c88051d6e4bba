"""The dbt project end to end: real dbt on a real DuckDB scratch warehouse with planted rows
whose answers are known, plus the manifest contract the public step reads and the Dagster
wiring. One `dbt build` (models, data tests, unit tests) serves the whole module."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from hub_assets.settings import DBT_PROJECT_DIR
from hub_assets.sources.declaration import load_agencies

DBT = str(Path(sys.executable).parent / "dbt")
USE_CASES = {"summer_engagement", "student_homelessness", "crossover_youth", "opportunity_youth", "young_parents",
             "programme_outcomes", "subpopulations"}


def _scratch_module():
    script = DBT_PROJECT_DIR / "scripts" / "scratch_warehouse.py"
    spec = importlib.util.spec_from_file_location("scratch_warehouse", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the planted city -------------------------------------------------------------------------
# Summer 2025 runs Monday 16 June (week 1) to Sunday 24 August (week 10).
PEOPLE = {
    # key: (birth_year, birth_month, sex, race_ethnicity, neighbourhood)
    "y1": (2012, 3, "F", "BLACK", "Oldtown"),  # enrolled; rec_parks + youthworks in summer 2025
    "y2": (2011, 8, "M", "WHITE", "Canton"),  # enrolled; no summer programme; in HMIS during school
    "y3": (2010, 1, "M", "HISPANIC", "Oldtown"),  # not enrolled; summer_funding 2025
    "y4": (2013, 5, "F", "BLACK", "Canton"),  # enrolled; family_league summer + after-school; public housing
    "y5": (2012, 9, "M", "ASIAN", "Canton"),  # enrolled; rec_parks in October only
    "c1": (2006, 5, "M", "BLACK", "Oldtown"),  # foster care, then juvenile intake 100 days later
    "c2": (2007, 2, "F", "WHITE", "Canton"),  # juvenile services only
    "o1": (2003, 6, "F", "BLACK", "Oldtown"),  # 22, neither enrolled nor working
    "o2": (2004, 2, "M", "BLACK", "Canton"),  # 21, working in 2025
    "o3": (2008, 9, "F", "HISPANIC", "Oldtown"),  # 17, enrolled 2025-26
    "m1": (2002, 4, "F", "BLACK", "Oldtown"),  # mother at 22; works after the birth
    "k1": (2024, 6, "M", "BLACK", "Oldtown"),  # m1's child, prenatal care from month 2
    "m2": (1990, 1, "F", "WHITE", "Canton"),  # mother at 34 (comparison group)
    "k2": (2024, 2, "F", "WHITE", "Canton"),  # m2's child, in Early Head Start
}


def _rows(agency: str, person: str, n: int, **content) -> dict:
    from datetime import datetime

    drop = content.pop("drop", f"{agency}_2025")
    loaded = content.pop("loaded_at", datetime(2025, 12, 1))
    return {"record_token": f"tok_{agency}_{person}", "drop_token": f"dt_{drop}", "row_token": f"rt_{drop}_{n}",
            "loaded_at": loaded, "race_ethnicity": PEOPLE[person][3], "neighbourhood": PEOPLE[person][4],
            **content}


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


RAW = {
    "city_schools": [
        # y1's row is resent in two monthly snapshots: counted once.
        _rows("city_schools", "y1", 1, drop="cps_2025-01", loaded_at=_date("2025-01-05"), school_year="2024-25",
              school_id="S1", school_name="Oldtown Elementary", grade="06", entry_date=_date("2024-08-26"),
              mckinney_vento=True),
        _rows("city_schools", "y1", 1, drop="cps_2025-02", loaded_at=_date("2025-02-05"), school_year="2024-25",
              school_id="S1", school_name="Oldtown Elementary", grade="06", entry_date=_date("2024-08-26"),
              mckinney_vento=True),
        _rows("city_schools", "y2", 2, school_year="2024-25", school_id="S1", school_name="Oldtown Elementary",
              grade="07", entry_date=_date("2024-08-26"), mckinney_vento=False, days_enrolled=80, days_attended=60),
        _rows("city_schools", "y4", 3, school_year="2024-25", school_id="S1", school_name="Oldtown Elementary",
              grade="05", entry_date=_date("2024-08-26"), mckinney_vento=False),
        _rows("city_schools", "y5", 4, school_year="2024-25", school_id="S1", school_name="Oldtown Elementary",
              grade="06", entry_date=_date("2024-08-26"), mckinney_vento=False, days_enrolled=100, days_attended=95),
        # y2 moved to S2 in January, after the HMIS stay: a student of two schools in one year.
        _rows("city_schools", "y2", 6, school_year="2024-25", school_id="S2", school_name="Canton High",
              grade="07", entry_date=_date("2025-01-06"), mckinney_vento=False, days_enrolled=60, days_attended=60),
        _rows("city_schools", "o3", 5, school_year="2025-26", school_id="S2", school_name="Canton High",
              grade="12", entry_date=_date("2025-08-25"), mckinney_vento=False),
    ],
    "rec_parks": [
        _rows("rec_parks", "y1", 1, registration_token="rg1", program="Day Camp", program_type="Camp", site="Park A",
              start_date=_date("2025-06-20"), end_date=_date("2025-07-10")),
        _rows("rec_parks", "y5", 2, registration_token="rg2", program="Fall League", program_type="League",
              site="Park B", start_date=_date("2025-10-01"), end_date=_date("2025-11-15")),
    ],
    "youthworks": [
        _rows("youthworks", "y1", 1, summer=2025, worksite="Library", worksite_sector="Public",
              start_date=_date("2025-07-07"), end_date=_date("2025-08-01"), hours_worked=80.0, wages_paid=960.0),
    ],
    "summer_funding": [
        _rows("summer_funding", "y3", 1, grantee="Arts Org", program_name="Summer Arts", summer=2025,
              program_start=_date("2025-07-01"), program_end=_date("2025-07-31"), days_attended=18),
    ],
    "family_league": [
        _rows("family_league", "y4", 1, provider="OST Co", program="Summer STEM", session_type="summer",
              session_start=_date("2025-06-23"), session_end=_date("2025-08-08"), days_attended=25),
        _rows("family_league", "y4", 2, provider="OST Co", program="After School", session_type="after_school",
              session_start=_date("2025-09-08"), session_end=_date("2025-12-19"), days_attended=40),
    ],
    "hmis": [
        _rows("hmis", "y2", 1, enrollment_token="en1", household_token="hh1", relationship_to_ho_h=2, project_type="ES",
              entry_date=_date("2024-10-01"), exit_date=_date("2024-12-01")),
    ],
    "public_housing": [
        _rows("public_housing", "y4", 1, household_token="ph1", relationship="CHILD", program="PUBLIC_HOUSING",
              development="Canton Homes", move_in_date=_date("2023-01-01"), snapshot_date=_date("2025-03-31")),
    ],
    "child_welfare": [
        _rows("child_welfare", "c1", 1, removal_date=_date("2020-01-01"), placement_type="FOSTER_FAMILY",
              placement_start=_date("2020-01-01")),
    ],
    "juvenile_services": [
        _rows("juvenile_services", "c1", 1, intake_date=_date("2020-04-10"), offense_category="PROPERTY",
              intake_decision="INFORMAL"),
        _rows("juvenile_services", "c2", 2, intake_date=_date("2024-03-01"), offense_category="PERSON",
              intake_decision="FORMAL"),
    ],
    "wage_records": [
        _rows("wage_records", "o2", 1, year_qtr="2025Q2", employer_token="em1", naics2="44", wages=4200.0),
        _rows("wage_records", "m1", 2, year_qtr="2025Q1", employer_token="em2", naics2="62", wages=3100.0),
        _rows("wage_records", "o2", 3, year_qtr="2025Q4", employer_token="em1", naics2="44", wages=4500.0),
    ],
    "vital_records": [
        {**_rows("vital_records", "k1", 1, prenatal_care_began_month=2, prenatal_visits=11,
                 birth_weight_grams=3300, plurality=1), "mother_record_token": "tok_vital_records_mother_m1"},
        {**_rows("vital_records", "k2", 2, prenatal_care_began_month=5, prenatal_visits=6,
                 birth_weight_grams=3000, plurality=1), "mother_record_token": "tok_vital_records_mother_m2"},
    ],
    "early_childhood": [
        _rows("early_childhood", "k2", 1, program_type="EARLY_HEAD_START", program_year="2025-26", site="EHS Canton",
              enroll_date=_date("2025-09-02")),
    ],
    # o1's household on TANF in 2024 and o2's on SNAP in 2025; o1 booked in May 2025, c1 (born 2006)
    # in February 2026.
    "social_services": [
        _rows("social_services", "o1", 1, case_token="cs1", relationship="CHILD", program="TANF",
              spell_start=_date("2024-03-01"), spell_end=_date("2024-09-30"), household_size=3),
        _rows("social_services", "o2", 2, case_token="cs2", relationship="HEAD", program="SNAP",
              spell_start=_date("2025-02-01"), household_size=1),
    ],
    "adult_justice": [
        _rows("adult_justice", "o1", 1, booking_token="bk1", arrest_date=_date("2025-05-10"),
              booking_date=_date("2025-05-10"), charge_category="PROPERTY", charge_level="MISDEMEANOR",
              release_type="ROR"),
        _rows("adult_justice", "c1", 2, booking_token="bk2", arrest_date=_date("2026-02-01"),
              booking_date=_date("2026-02-01"), charge_category="DRUG", charge_level="MISDEMEANOR",
              release_type="BAIL"),
    ],
    # y2 in outpatient mental health twice in 2024-25; o1 in substance-use treatment in September
    # 2025 (2025-26); c2 in crisis services in September 2026 (2026-27).
    "behavioral_health": [
        _rows("behavioral_health", "y2", 1, encounter_token="bh1", service_date=_date("2024-11-15"),
              program_type="OMHC", primary_diagnosis="F41.1", substance_use=False, units=1),
        _rows("behavioral_health", "y2", 2, encounter_token="bh2", service_date=_date("2025-02-10"),
              program_type="OMHC", primary_diagnosis="F41.1", substance_use=False, units=1),
        _rows("behavioral_health", "o1", 3, encounter_token="bh3", service_date=_date("2025-09-10"),
              program_type="SUD_OUTPATIENT", primary_diagnosis="F12.20", substance_use=True, units=2),
        _rows("behavioral_health", "c2", 4, encounter_token="bh4", service_date=_date("2026-09-15"),
              program_type="CRISIS", primary_diagnosis="F43.0", substance_use=False, units=1),
    ],
}


def _plant(con) -> None:
    scratch = _scratch_module()
    scratch.create_tables(con)
    crosswalk = []
    for agency, rows in RAW.items():
        scratch.insert(con, f"raw.{agency}", rows)
        for row in rows:
            for column in ("record_token", "mother_record_token"):
                if row.get(column):
                    person = row[column].rsplit("_", 1)[1]
                    crosswalk.append({"record_token": row[column], "person_key": f"pk_{person}", "source": agency})
    unique = {row["record_token"]: row for row in crosswalk}
    scratch.insert(con, "spine.person_crosswalk", list(unique.values()))
    scratch.insert(con, "spine.person_spine", [
        {"person_key": f"pk_{p}", "birth_year": by, "birth_month": bm, "sex": sex, "race_ethnicity": race,
         "neighbourhood": hood, "systems": ["x"], "n_records": 1}
        for p, (by, bm, sex, race, hood) in PEOPLE.items()
    ])


def _dbt(args: list[str], data_dir: Path, target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hub")
    target = data_dir / "dbt_target"
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        _plant(con)
    result = _dbt(["build"], data_dir, target)
    assert result.returncode == 0, result.stdout[-6000:]
    return data_dir, target


def _query(built, sql: str) -> list[tuple]:
    with duckdb.connect(str(built[0] / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _manifest(built) -> dict:
    return json.loads((built[1] / "manifest.json").read_text())


# --- summer engagement ----------------------------------------------------------------------------

def test_youth_in_two_summer_providers_is_counted_once(built):
    row = _query(built, """select participants, provider_participations, participants_in_two_or_more,
                                  enrolled_youth, enrolled_participants, participation_rate
                           from marts.summer_engagement_overview where summer_year = 2025""")
    # y1 (rec_parks + youthworks), y3, y4; y5's October league is not summer.
    assert row == [(3, 4, 1, 4, 2, 0.5)]
    by_provider = dict(_query(built, "select provider, participants from marts.summer_participants_by_provider"))
    assert by_provider == {"rec_parks": 1, "youthworks": 1, "summer_funding": 1, "family_league": 1}
    assert _query(built, "select provider_a, provider_b, shared_participants from marts.summer_provider_overlap") == [
        ("rec_parks", "youthworks", 1)]


def test_weekly_participation_counts_overlapping_programmes_once(built):
    weeks = dict(_query(built, "select week_of_summer, participants from marts.summer_participation_by_week "
                               "where summer_year = 2025"))
    # y1: rec_parks weeks 1-4, youthworks weeks 4-7 (week 4 once); y4: weeks 2-8; y3: weeks 3-7.
    assert weeks == {1: 1, 2: 2, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 1}


def test_participation_rate_by_neighbourhood_is_against_enrolled_youth(built):
    rows = _query(built, """select neighbourhood, enrolled_youth, enrolled_participants, participation_rate,
                                   participants
                            from marts.summer_participation_by_neighbourhood order by neighbourhood""")
    assert rows == [("Canton", 3, 1, 1 / 3, 1), ("Oldtown", 1, 1, 1.0, 2)]
    gaps = _query(built, """select group_value, participants_short from marts.summer_engagement_gaps
                            where dimension = 'neighbourhood' order by group_value""")
    # City-wide rate 0.5: Canton needed ceil(1.5) = 2 enrolled participants, had 1.
    assert gaps == [("Canton", 1), ("Oldtown", 0)]


def test_snapshot_roster_resent_in_two_drops_is_one_enrolment(built):
    sql = "select count(*) from staging.stg_city_schools__enrollments where person_key = 'pk_y1'"
    assert _query(built, sql) == [(1,)]


# --- the other use cases --------------------------------------------------------------------------

def test_students_identified_beyond_the_mckinney_vento_flag(built):
    rows = _query(built, """select enrolled_students, mckinney_vento_students, hmis_students, public_housing_students,
                                   identified_students, hmis_added_beyond_flag, public_housing_added_beyond_flag,
                                   added_beyond_flag
                            from marts.student_homelessness_by_school where school_id = 'S1'""")
    assert rows == [(4, 1, 1, 1, 3, 1, 1, 2)]


def test_a_student_of_two_schools_is_counted_once_in_the_published_total(built):
    from hub_assets.dbt.manifest import published_marts
    from hub_assets.disclosure.margins import ALL, TOTAL
    from hub_assets.disclosure.suppression import publish

    sql = "select * from marts.student_homelessness_by_school where school_year = '2024-25'"
    with duckdb.connect(str(built[0] / "warehouse.duckdb"), read_only=True) as con:
        mart = con.sql(sql).pl()
    by_school = dict(zip(mart["school_id"], mart["enrolled_students"]))
    assert by_school == {"S1": 4, "S2": 1, ALL: 4}  # y2 is at both schools: 4 + 1 rows, 4 students
    spec = next(m.spec for m in published_marts(_manifest(built)) if m.name == "student_homelessness_by_school")
    assert spec.totalled == () and "school_id" in spec.overlapping
    published = publish(mart, spec, 0, "test")  # threshold 0: every count shown, to read the totals
    assert TOTAL not in published["school_id"].to_list()  # the publisher sums nothing along schools
    assert published.filter(pl.col("school_id") == ALL)["enrolled_students"].to_list() == [4]
    assert published.filter(pl.col("school_id") == ALL)["school_name"].to_list() == [ALL]


def test_crossover_youth_order_and_time_between(built):
    sql = "select sequence, time_between_band, crossover_youth from marts.crossover_youth_by_sequence"
    assert _query(built, sql) == [
        ("child_welfare_first", "1 under 6 months", 1)]
    by_sex = dict((r[0], r[1:]) for r in _query(built, """select group_value, child_welfare_youth,
        juvenile_services_youth, crossover_youth from marts.crossover_youth_by_group where dimension = 'sex'"""))
    assert by_sex == {"M": (1, 1, 1), "F": (0, 1, 0)}


def test_opportunity_youth_are_neither_enrolled_nor_working(built):
    rows = _query(built, """select period_end_quarter, youth_16_24, enrolled_youth, working_youth, opportunity_youth
                            from marts.opportunity_youth_by_group where dimension = 'all'""")
    # o1, c1, c2 are neither; o2 and m1 worked in 2025; o3 enrolled.
    assert rows == [("2025Q4", 6, 1, 2, 3)]


def test_young_parents_and_their_childrens_services(built):
    rows = _query(built, """select mother_age_band, is_young_parent, mothers, mothers_working_after_birth,
                                   children_first_trimester_care, children_in_early_childhood
                            from marts.young_parents_outcomes order by mother_age_band""")
    assert rows == [("20-24", True, 1, 1, 1, 0), ("25+", False, 1, 0, 0, 1), ("All", None, 2, 1, 1, 1)]


# --- the project itself ---------------------------------------------------------------------------

def test_subpopulations_are_defined_once_per_person_and_school_year(built):
    # 2024-25: y1 McKinney-Vento and y2 in HMIS (homelessness); y2 attended 120 of 140 days at
    # two schools (86%: chronic absence, though 100% at the second); y5 95 of 100 (not chronic);
    # y4 on a housing roster; c1's placement is still open (foster care every year since 2019-20);
    # m1 gave birth at 22 in June 2024 (a young parent from 2023-24 on). c2's intake was in 2023-24.
    # o1's household had TANF to September 2024 and o1 was booked in May 2025; o2's household has
    # had SNAP since February 2025.
    rows = _query(built, "select person_key, subpopulation from intermediate.int_subpopulations "
                         "where school_year = '2024-25' order by 1, 2")
    assert rows == [("pk_c1", "foster_care"), ("pk_m1", "young_parent"), ("pk_o1", "household_benefits"),
                    ("pk_o1", "justice_involved"), ("pk_o2", "household_benefits"), ("pk_y1", "homelessness"),
                    ("pk_y2", "chronic_absence"), ("pk_y2", "homelessness"), ("pk_y4", "public_housing")]
    assert _query(built, "select school_year from intermediate.int_subpopulations "
                         "where person_key = 'pk_c2'") == [("2023-24",)]
    first = _query(built, "select min(school_year) from intermediate.int_subpopulations where person_key = 'pk_c1' "
                          "and subpopulation = 'foster_care'")
    assert first == [("2019-20",)]


def test_headline_rates_by_subpopulation_compare_with_every_youth_measured(built):
    # Students of 2025-26 (the latest school year): o3 only, in no subpopulation, so only the
    # all-youth row; homelessness in the latest year: none.
    rows = _query(
        built,
        "select measure, subpopulation, youth, youth_in_measure from marts.headline_rates_by_subpopulation "
        "where measure in ('homelessness', 'chronic_absence') order by 1, 2",
    )
    assert rows == [("chronic_absence", "all_youth", 1, 0), ("homelessness", "all_youth", 1, 0)]


def test_youth_served_by_public_behavioral_health_are_a_subpopulation_of_their_own(built):
    # One row per person and school year served, mental health and substance use alike; never in
    # int_subpopulations (which every use case reads) nor in headline_rates_by_subpopulation.
    assert _query(built, "select person_key, subpopulation, school_year from "
                         "intermediate.int_subpopulations_behavioral_health order by 1") == [
        ("pk_c2", "behavioral_health", "2026-27"), ("pk_o1", "behavioral_health", "2025-26"),
        ("pk_y2", "behavioral_health", "2024-25")]
    assert _query(built, "select count(*) from intermediate.int_subpopulations "
                         "where subpopulation = 'behavioral_health'") == [(0,)]
    assert _query(built, "select count(*) from marts.headline_rates_by_subpopulation "
                         "where subpopulation = 'behavioral_health'") == [(0,)]


def test_headline_rates_by_behavioral_health_compare_those_served_with_every_youth_measured(built):
    # Summer 2025: y2 (served in 2024-25) is among the 4 enrolled students and took part in
    # nothing. Opportunity youth in 2025Q4 (school year 2025-26): o1, served in September 2025,
    # is one; c2 was served only in 2026-27, after the period. Students of 2025-26: o3, not served.
    rows = _query(built, "select measure, period, subpopulation, youth, youth_in_measure, rate "
                         "from marts.headline_rates_by_behavioral_health order by 1, 3")
    assert rows == [("chronic_absence", "2025-26", "all_youth", 1, 0, 0.0),
                    ("homelessness", "2025-26", "all_youth", 1, 0, 0.0),
                    ("opportunity_youth", "2025Q4", "all_youth", 6, 3, 0.5),
                    ("opportunity_youth", "2025Q4", "behavioral_health", 1, 1, 1.0),
                    ("summer_participation", "2025", "all_youth", 4, 2, 0.5),
                    ("summer_participation", "2025", "behavioral_health", 1, 0, 0.0)]
    # The same all-youth figures as the table of the other subpopulations.
    assert _query(built, "select measure, period, youth, youth_in_measure from marts.headline_rates_by_subpopulation "
                         "where subpopulation = 'all_youth' order by 1") == [
        (m, p, y, n) for m, p, s, y, n, _ in rows if s == "all_youth"]


def test_opportunity_youth_by_earlier_involvement_including_benefits_and_adult_bookings(built):
    # Youth 16-24 in 2025Q4: o1 (TANF, an adult booking), c1 (foster care, juvenile intake) and c2
    # (juvenile intake) are neither enrolled nor working; o2 (SNAP) and m1 (a young parent) work;
    # o3 is enrolled.
    rows = _query(built, "select subpopulation, youth, youth_in_measure from marts.headline_rates_by_subpopulation "
                         "where measure = 'opportunity_youth' order by 1")
    assert rows == [("all_youth", 6, 3), ("foster_care", 1, 1), ("household_benefits", 2, 1),
                    ("justice_involved", 3, 3), ("young_parent", 1, 0)]


def test_dbt_unit_tests_run_and_pass(built):
    results = json.loads((built[1] / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 4
    assert {r["status"] for r in unit} == {"pass"}


def test_models_land_in_verbatim_schemas(built):
    schemas = {r[0] for r in _query(built, "select distinct table_schema from information_schema.tables")}
    assert {"staging", "intermediate", "marts"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_every_mart_is_published_with_a_valid_spec(built):
    manifest = _manifest(built)
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")
    ]
    assert {m["original_file_path"].split("/")[2] for m in marts} == USE_CASES
    for mart in marts:
        meta = mart["config"]["meta"]
        assert meta["use_case"] == mart["original_file_path"].split("/")[2], mart["name"]
        assert mart["config"]["contract"]["enforced"], mart["name"]
        columns = {name: col["data_type"] for name, col in mart["columns"].items()}
        spec = meta["publish"]
        assert set(spec["dimensions"]) <= set(columns), mart["name"]
        assert all(columns[c] == "bigint" for c in spec["counts"]), mart["name"]
        for rate, (numerator, denominator) in spec.get("rates", {}).items():
            assert rate in columns and {numerator, denominator} <= set(spec["counts"]), (mart["name"], rate)


def test_every_agency_has_a_staging_folder_reading_its_raw_table(built):
    manifest = _manifest(built)
    sources = {n["name"]: n for n in manifest["sources"].values() if n["source_name"] == "raw"}
    assert set(sources) == {a.name for a in load_agencies()}
    for agency in load_agencies():
        assert sources[agency.name]["meta"]["dagster"]["asset_key"] == ["raw", agency.name]
        staging = DBT_PROJECT_DIR / "models" / "staging" / agency.name
        assert (staging / f"stg_{agency.name}__{agency.entity}.sql").exists()


def test_dagster_dbt_assets_have_upstream_sources_and_use_case_groups():
    from hub_assets.defs.dbt.assets import hub_dbt_models

    specs = {spec.key: spec for spec in hub_dbt_models.specs}
    deps = {dep.asset_key for spec in specs.values() for dep in spec.deps}
    for agency in load_agencies():
        assert dg.AssetKey(["raw", agency.name]) in deps
    assert {dg.AssetKey(["spine", "person_crosswalk"]), dg.AssetKey(["spine", "person_spine"])} <= deps
    assert specs[dg.AssetKey(["marts", "summer_engagement_overview"])].group_name == "summer_engagement"
    assert specs[dg.AssetKey(["marts", "young_parents_outcomes"])].group_name == "young_parents"
    assert specs[dg.AssetKey(["staging", "stg_city_schools__enrollments"])].group_name == "staging"
    assert specs[dg.AssetKey(["intermediate", "int_service_episodes"])].group_name == "intermediate"
    assert {spec.group_name for spec in specs.values()} == USE_CASES | {"staging", "intermediate"}
    assert hub_dbt_models.check_specs, "dbt tests should be asset checks"
    assert hub_dbt_models.node_def.pool == "duckdb_writer"


@pytest.mark.slow  # dagster-dbt runs dbt in a fresh target folder: a full re-parse (15-70 s here)
def test_dagster_materialises_dbt_models_into_the_hubs_warehouse(built, monkeypatch):
    from hub_assets.defs.dbt.assets import hub_dbt_models
    from hub_assets.defs.dbt.resources import dbt_resource
    from hub_assets.defs.resources import HubResource

    data_dir = built[0]
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))  # the asset sets it too; restored after the test
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("drop view staging.stg_spine__person_crosswalk")
    key = dg.AssetKey(["staging", "stg_spine__person_crosswalk"])
    result = dg.materialize(
        [hub_dbt_models],
        selection=[key],
        resources={"dbt": dbt_resource(), "hub": HubResource(data_dir=str(data_dir))},
    )
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [key]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    assert _query(built, "select count(*) from staging.stg_spine__person_crosswalk")[0][0] > 0


@pytest.mark.slow  # a second dagster-dbt run (re-parse)
def test_an_agency_yet_to_send_a_drop_is_an_empty_source_not_a_failed_build(built, monkeypatch):
    from hub_assets.defs.dbt.assets import hub_dbt_models
    from hub_assets.defs.dbt.resources import dbt_resource
    from hub_assets.defs.resources import HubResource

    data_dir = built[0]
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("drop view staging.stg_youthworks__placements")
        con.execute("drop table raw.youthworks")  # as on a hub where YouthWorks has sent nothing yet
    key = dg.AssetKey(["staging", "stg_youthworks__placements"])
    result = dg.materialize(
        [hub_dbt_models],
        selection=[key],
        resources={"dbt": dbt_resource(), "hub": HubResource(data_dir=str(data_dir))},
    )
    assert result.success
    assert _query(built, "select count(*) from staging.stg_youthworks__placements") == [(0,)]


def test_each_use_case_reaches_only_the_sources_its_agreement_lists(built):
    import yaml

    from hub_assets.settings import GOVERNANCE_FILE

    governance = yaml.safe_load(GOVERNANCE_FILE.read_text())
    allowed = {
        a["use_case"]: set(a["sources"]) | set(governance.get("shared_sources", [])) for a in governance["agreements"]
    }
    manifest = _manifest(built)

    def sources_of(unique_id: str, seen: set) -> set[str]:
        if unique_id in seen:
            return set()
        seen.add(unique_id)
        if unique_id.startswith("source."):
            node = manifest["sources"][unique_id]
            return {node["name"] if node["source_name"] == "raw" else node["source_name"]}
        return set().union(*(sources_of(u, seen) for u in manifest["nodes"][unique_id]["depends_on"]["nodes"]))

    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/"):
            use_case = node["original_file_path"].split("/")[2]
            reached = sources_of(node["unique_id"], set())
            assert reached <= allowed[use_case], (node["name"], reached - allowed[use_case])


# --- staging checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, bad, test, failing_row",
    [
        ("household_token", "null", "not_null_columns", ("household_token", 1)),
        ("project_type", "'XX'", "accepted_values_columns", ("project_type", "XX", 1)),
    ],
)
def test_a_bad_value_in_a_declared_column_fails_its_staging_check_by_name(built, column, bad, test, failing_row):
    """Each staging model's required columns and coded columns (from the agency declaration) are
    checked by one test each, which names the column (and the value) that broke it."""
    data_dir, target = built
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        [(token, value)] = con.execute(f"select record_token, {column} from raw.hmis limit 1").fetchall()
        con.execute(f"update raw.hmis set {column} = {bad} where record_token = ?", [token])
    try:
        result = _dbt(
            ["test", "-s", f"stg_hmis__enrollments,test_name:{test}", "--store-failures", "--target-path", str(target)],
            data_dir,
            target,
        )
        assert result.returncode == 1, result.stdout[-3000:]
        results = json.loads((target / "run_results.json").read_text())["results"]
        failures = [r for r in results if r["status"] == "fail"]
        assert len(failures) == 1 and failures[0]["unique_id"].startswith(f"test.youth_data_hub.{test}_stg_hmis")
        assert _query(built, f"select * from {failures[0]['relation_name']}") == [failing_row]
    finally:
        with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
            con.execute(f"update raw.hmis set {column} = ? where record_token = ?", [value, token])
