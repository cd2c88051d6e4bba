"""No identifier outside the identity zone: the scan passes on a clean hub and catches each kind of
planted leak (column name, record ID value, name values, date of birth, address in a public file)."""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl
import pytest

from hub_assets.defs.identifier_scan.assets import CHECK, build_identifier_scan
from hub_assets.defs.resources import HubResource
from hub_assets.identifier_scan.scan import (
    _key_shaped,
    _scanner,
    declared_identifier_columns,
    identifier_column,
    scan_database,
    scan_files,
)
from hub_assets.settings import private_files

PEOPLE = [  # record_token, source, record_id, first, last, dob, address
    ("tok1", "rec_parks", "RP-000101", "JAMAL", "WASHINGTON", dt.date(2009, 3, 14), "1204 N CHARLES ST"),
    ("tok2", "rec_parks", "RP-000102", "MARIA", "GONZALEZ", dt.date(2010, 7, 2), "88 EASTERN AVE"),
    ("tok3", "rec_parks", "RP-000103", "AALIYAH", "JOHNSON", dt.date(2008, 11, 30), "310 W 29TH ST"),
    ("tok4", "rec_parks", "RP-000104", "DEVON", "BROWN", dt.date(2011, 1, 9), "5 GREENMOUNT AVE"),
]


@pytest.fixture
def hub(tmp_path) -> HubResource:
    data = tmp_path / "data"
    data.mkdir()
    with private_files(), duckdb.connect(str(data / "identity.duckdb")) as con:
        con.execute("create table records (record_token varchar, source varchar, record_id varchar, "
                    "first_name varchar, middle_name varchar, last_name varchar, dob date, sex varchar, "
                    "address varchar, zip varchar, race_ethnicity varchar, drop_id varchar, loaded_at timestamp)")
        con.executemany("insert into records values (?, ?, ?, ?, null, ?, ?, 'F', ?, '21218', 'BLACK', 'd1', now())",
                        [list(p) for p in PEOPLE])
        # Agency-assigned content identifiers and the drop registry (what intake keeps back).
        con.execute("create table identifiers as select * from (values "
                    "('hmis', 'household_id', 'HH-004417', 'abc', 'hmis_enrollments_2024-06.csv')) "
                    "t(agency, column_name, value, token, drop_id)")
        con.execute("create table drops as select 'recparks_registrations_2024w31.csv' drop_id, "
                    "'rec_parks' agency")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema raw; create schema spine; create schema marts")
        con.execute("create table raw.rec_parks as select * from (values "
                    "('tok1', 'dt1', 'r1', 'SWIM', date '2024-06-20', 'Hamilton'), "
                    "('tok2', 'dt1', 'r2', 'SOCCER', date '2024-06-21', 'Waverly'), "
                    "('tok3', 'dt1', 'r3', 'ART', date '2024-07-01', 'Hamilton')) "
                    "t(record_token, drop_token, row_token, program, start_date, neighbourhood)")
        con.execute("create table spine.person_crosswalk as select * from (values "
                    "('tok1', 'P1', 'rec_parks'), ('tok2', 'P2', 'rec_parks'), ('tok3', 'P3', 'rec_parks')) "
                    "t(record_token, person_key, source)")
        con.execute("create table spine.person_spine as select * from (values "
                    "('P1', 2009, 3, 'F'), ('P2', 2010, 7, 'F'), ('P3', 2008, 11, 'F')) "
                    "t(person_key, birth_year, birth_month, sex)")
        con.execute("create table marts.by_neighbourhood as select * from (values ('Hamilton', 2), ('Waverly', 1)) "
                    "t(neighbourhood, participants)")
    return HubResource(data_dir=str(data))


def _scan(hub: HubResource):
    return scan_database(hub.paths.warehouse_db, hub.paths.identity_db)


def test_a_clean_hub_has_no_hits(hub):
    assert _scan(hub) == []


def test_identifier_like_column_names_are_caught_and_birth_year_is_allowed():
    declared = declared_identifier_columns()
    for name in ("last_name", "FirstName", "dob", "child_dob", "birth_date", "street_address", "phone",
                 "ssn", "record_id", "client_id", "STUDENT_ID", "mother_maiden_last",
                 # agency-assigned identifiers among the content, and where a row came from
                 "EnrollmentID", "household_id", "RegistrationID", "EMPLOYER_ID", "drop_id", "source_row"):
        assert identifier_column(name, declared), name
    for name in ("birth_year", "birth_month", "record_token", "person_key", "neighbourhood", "program_name",
                 "street_key", "sex", "household_token", "employer_token", "drop_token", "row_token"):
        assert not identifier_column(name, declared), name


def test_an_agency_assigned_id_or_a_drop_id_in_the_warehouse_is_caught(hub):
    with hub.warehouse() as con:
        con.execute("update raw.rec_parks set program = 'HH-004417' where row_token = 'r1'")
        con.execute("update raw.rec_parks set neighbourhood = 'recparks_registrations_2024w31.csv' "
                    "where row_token = 'r2'")
        con.execute("create table marts.households as select 'P1' person_key, 'x' household_id")
    assert sorted((h.where, h.kind) for h in _scan(hub)) == [
        ("marts.households.household_id", "column_name"),
        ("raw.rec_parks.neighbourhood", "agency_id"), ("raw.rec_parks.program", "agency_id")]


def test_a_planted_last_name_column_is_caught(hub):
    with hub.warehouse() as con:
        con.execute("create table marts.leak as select 'P1' person_key, 'x' last_name")
    hits = _scan(hub)
    assert [(h.where, h.kind) for h in hits] == [("marts.leak.last_name", "column_name")]


def test_a_record_id_inside_a_content_column_is_caught(hub):
    with hub.warehouse() as con:
        con.execute("update raw.rec_parks set program = 'RP-000102' where row_token = 'r2'")
    assert [(h.where, h.kind) for h in _scan(hub)] == [("raw.rec_parks.program", "record_id")]


def test_a_date_of_birth_in_its_own_row_is_caught_by_token_and_by_person_key(hub):
    with hub.warehouse() as con:
        con.execute("update raw.rec_parks set start_date = date '2010-07-02' where record_token = 'tok2'")
        con.execute("create table marts.episodes as select 'P3' person_key, '11/30/2008' as note, "
                    "'2008-11-30' as iso_note, '20081130' as compact_note, '2008-11-30 00:00:00' as stamp_note, "
                    "timestamp '2008-11-30 00:00:00' as stamp")
    kinds = {(h.where, h.kind) for h in _scan(hub)}
    assert kinds == {("raw.rec_parks.start_date", "dob"), ("marts.episodes.note", "dob"),
                     ("marts.episodes.iso_note", "dob"), ("marts.episodes.compact_note", "dob"),
                     ("marts.episodes.stamp_note", "dob"), ("marts.episodes.stamp", "dob")}


def test_a_name_in_its_own_row_is_caught_even_once(hub):
    # One name among thousands of program names is no column of names (the share rule), but it
    # is the very record's own surname: a leak.
    with hub.warehouse() as con:
        con.execute("create table raw.programs as select 'tok' || (1 + i % 3) record_token, "
                    "'PROGRAM ' || i as program from range(3000) t(i)")
        con.execute("update raw.programs set program = 'Gonzalez' where program = 'PROGRAM 1'")  # tok2: GONZALEZ
    assert [(h.where, h.kind) for h in _scan(hub)] == [("raw.programs.program", "name")]
    with hub.warehouse() as con:  # the same surname in another person's row is content
        con.execute("update raw.programs set record_token = 'tok1' where program = 'Gonzalez'")
    assert _scan(hub) == []


def test_a_service_that_happens_on_a_birth_date_is_not_a_leak(hub):
    # A newborn placed on the day of birth: one row in forty holds its own DOB. A real event,
    # not a column of birth dates (a leaked column holds the DOB in most of its rows).
    with hub.warehouse() as con:
        con.execute("create table raw.child_welfare as select 'tok1' record_token, "
                    "date '2024-01-01' + i::int as removal_date from range(39) t(i) "
                    "union all select 'tok1', date '2009-03-14'")
    assert not [h for h in _scan(hub) if h.where.startswith("raw.child_welfare")]
    with hub.warehouse() as con:
        con.execute("update raw.child_welfare set removal_date = date '2009-03-14' "
                    "where removal_date < date '2024-01-05'")
    assert {(h.where, h.kind) for h in _scan(hub)} >= {("raw.child_welfare.removal_date", "dob")}


def test_a_column_of_names_is_caught_but_a_neighbourhood_sharing_a_surname_is_not(hub):
    with hub.warehouse() as con:
        con.execute("create table marts.roster as select * from (values ('Jamal'), ('Maria'), ('Johnson')) t(who)")
        con.execute("insert into marts.by_neighbourhood values ('Brown', 0)")  # a place named like a person
    assert [(h.where, h.kind) for h in _scan(hub)] == [("marts.roster.who", "name")]


HEX_KEYS = "select md5(i::varchar)[1:16] person_key, i from range(100) t(i)"  # 16 hex digits, as person keys


def test_a_key_column_is_cleared_by_its_shape_and_a_value_of_another_shape_in_it_is_caught(hub):
    with hub.warehouse() as con:
        con.execute(f"create table marts.by_person as {HEX_KEYS}")
        con.execute("create table marts.keyed as select person_key episode_id, i from marts.by_person")
    assert _scan(hub) == []
    # A record ID (not key-shaped) among the keys: the column is probed like any other.
    with hub.warehouse() as con:
        con.execute("update marts.keyed set episode_id = 'RP-000103' where i = 7")
    assert [(h.where, h.kind) for h in _scan(hub)] == [("marts.keyed.episode_id", "record_id")]


def test_key_shaped_columns_are_recognised_only_while_no_identity_value_has_that_shape(hub):
    scanner = _scanner(hub.paths.identity_db)
    scanner.execute(f"ATTACH '{hub.paths.warehouse_db}' AS wh")
    scanner.execute(f"create table keyed as {HEX_KEYS}")
    scanner.execute("create table not_keys as select person_key || '-x' person_key from keyed")
    assert _key_shaped(scanner, "keyed", [("person_key", "VARCHAR"), ("i", "BIGINT")]) == {"person_key"}
    assert _key_shaped(scanner, "not_keys", [("person_key", "VARCHAR")]) == set()
    scanner.close()
    # An agency whose record IDs look like keys: a key column holding one is caught, shape or not.
    hex_id = "0f3a9c5e7b1d2468"
    with duckdb.connect(str(hub.paths.identity_db)) as con:
        con.execute("update records set record_id = ? where record_token = 'tok4'", [hex_id])
    with hub.warehouse() as con:
        con.execute(f"create table marts.keyed as {HEX_KEYS}")
        con.execute("update marts.keyed set person_key = ? where i = 3", [hex_id])
    assert [(h.where, h.kind) for h in _scan(hub)] == [("marts.keyed.person_key", "record_id")]


def test_an_address_in_a_public_file_is_caught(hub, tmp_path):
    clean, leaky = tmp_path / "clean.csv", tmp_path / "leaky.parquet"
    pl.DataFrame({"neighbourhood": ["Hamilton"], "participants": [40]}).write_csv(clean)
    pl.DataFrame({"neighbourhood": ["88 Eastern Ave"], "participants": [40]}).write_parquet(leaky)
    hits = scan_files([clean, leaky], hub.paths.identity_db)
    assert [(h.where, h.kind) for h in hits] == [(f"{leaky}.neighbourhood", "address")]


def test_the_blocking_scan_check_fails_on_a_leak_and_passes_when_clean(hub):
    asset = build_identifier_scan([])

    def evaluate():
        result = dg.materialize([asset], resources={"hub": hub}, raise_on_error=False)
        [evaluation] = [e.asset_check_evaluation_data for e in result.all_events
                        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        assert evaluation.check_name == CHECK
        return evaluation

    assert evaluate().passed
    with hub.warehouse() as con:
        con.execute("create schema public; create table public.leak as select 'RP-000101' as cell")
    failed = evaluate()
    assert not failed.passed and "public.leak.cell: record_id" in failed.metadata["first_hits"].value
