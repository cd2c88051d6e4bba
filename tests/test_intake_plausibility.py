"""Well-formed but unbelievable rows are quarantined by the agency's declared rules, and a drop
that is empty, has no accepted row or too many quarantined rows is rejected, not accepted."""

import duckdb
import pytest
from conftest import valid_row

from hub_assets.sources.declaration import agency, load_agencies
from hub_assets.sources.errors import DropRejected
from hub_assets.sources.intake import ingest_drop
from hub_assets.sources.landing import receive_new_drops
from hub_assets.sources.outcomes import outstanding
from hub_assets.sources.plausibility import check_declaration


def load_one(hub, name):
    (drop_id,) = receive_new_drops(agency(name), hub.paths, set()).drop_ids
    return drop_id, ingest_drop(agency(name), drop_id, hub)


def quarantine(hub):
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        return con.execute("select agency, file_name, row_number, column_name, rule from quarantine "
                           "order by row_number, rule").fetchall()


def registry(hub):
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        return con.execute("select drop_id, status, problem from drops").fetchall()


def test_every_declared_plausibility_rule_names_real_columns():
    for source in load_agencies():
        check_declaration(source)  # raises naming the agency otherwise
    assert agency("city_schools").plausibility.ages == {"person": (3, 21)}


def test_implausible_rows_are_quarantined_naming_row_column_and_rule(hub, write_drop):
    write_drop("city_schools", "cps_enrollment_2024_10.csv", n=8, overrides={
        1: {"ENTRY_DATE": "09/01/2099"},  # a service date in the future
        2: {"BIRTH_DATE": "01/01/1900"},  # before the declared floor (and 124 at entry)
        3: {"BIRTH_DATE": "10/01/2024", "ENTRY_DATE": "08/26/2024"},  # born after the service date
        4: {"BIRTH_DATE": "01/15/2023", "ENTRY_DATE": "08/26/2024"},  # 1 year old in school
        5: {"EXIT_DATE": "06/15/2099"},  # a planned exit may lie ahead, but not 70 years
    })
    _, result = load_one(hub, "city_schools")
    assert (result.rows_received, result.rows_accepted, result.rows_quarantined) == (8, 3, 5)
    file = "cps_enrollment_2024_10.csv"
    assert quarantine(hub) == [
        ("city_schools", file, 2, "BIRTH_DATE", "age_out_of_range"),  # 91 on a 2099 entry date
        ("city_schools", file, 2, "ENTRY_DATE", "date_in_future"),
        ("city_schools", file, 3, "BIRTH_DATE", "age_out_of_range"),
        ("city_schools", file, 3, "BIRTH_DATE", "dob_before_floor"),
        ("city_schools", file, 4, "BIRTH_DATE", "dob_after_service_date"),
        ("city_schools", file, 5, "BIRTH_DATE", "age_out_of_range"),
        ("city_schools", file, 6, "EXIT_DATE", "date_in_future"),
    ]
    report = result.report_path.read_text()
    assert "| dob_after_service_date | the date of birth is after the row's service date | 1 |" in report


def test_a_mothers_age_at_the_birth_is_checked_in_vital_records(hub, write_drop):
    child_born = valid_row(agency("vital_records"), 0)["child_dob"]
    assert child_born == "2008-01-01"
    write_drop("vital_records", "vital_births_2023.csv", n=3, overrides={0: {"mother_dob": "2003-01-01"}})  # 5
    _, result = load_one(hub, "vital_records")
    assert result.rows_accepted == 2
    assert quarantine(hub) == [("vital_records", "vital_births_2023.csv", 1, "mother_dob", "age_out_of_range")]


def test_a_header_only_file_is_rejected_not_accepted(hub, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=0)
    with pytest.raises(DropRejected, match="the file has a header but no rows"):
        load_one(hub, "hmis")
    assert registry(hub) == [("hmis_enrollments_2024_09.csv", "rejected", "the file has a header but no rows")]
    assert [o.state for o in outstanding(hub.paths, "hmis")] == ["rejected"]


def test_a_drop_with_no_accepted_row_is_rejected_and_its_report_lists_every_row(hub, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3,
               overrides={i: {"EntryDate": "2099-01-01"} for i in range(3)})
    with pytest.raises(DropRejected, match="no row was accepted: all 3 rows were quarantined"):
        load_one(hub, "hmis")
    assert registry(hub)[0][1] == "rejected"
    assert _raw_rows(hub, "hmis") == 0
    report = (hub.paths.reports / "hmis" / "hmis_enrollments_2024_09.csv.md").read_text()
    for row in (1, 2, 3):
        assert f"| {row} | EntryDate | date_in_future |" in report


def test_a_drop_over_its_declared_quarantine_share_is_rejected(hub, write_drop):
    bad = {i: {"EntryDate": "2099-01-01"} for i in range(0, 30, 2)}
    bad |= {i: {"EntryDate": "not a date"} for i in range(1, 6, 2)}  # 18 of 30 rows: 60% > 50%
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=30, overrides=bad)
    with pytest.raises(DropRejected, match=r"18 of 30 rows \(60.0%\) were quarantined, more than the 50%"):
        load_one(hub, "hmis")
    assert registry(hub)[0][1] == "rejected"
    assert _raw_rows(hub, "hmis") == 0


def _raw_rows(hub, name):
    if not hub.paths.warehouse_db.exists():
        return 0
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        found = con.execute("select count(*) from information_schema.tables where table_schema = 'raw' "
                            "and table_name = ?", [name]).fetchone()[0]
        return con.execute(f"select count(*) from raw.{name}").fetchone()[0] if found else 0
