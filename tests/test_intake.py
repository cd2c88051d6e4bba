"""Intake that loses nothing, and separation at the door: ``ingest_drop`` on real DuckDB stores."""

import json
import re

import duckdb
import polars as pl
import pytest
from conftest import valid_row

from hub_assets.defs.sources.checks import identifier_column_names
from hub_assets.sources.declaration import agency, load_agencies
from hub_assets.sources.errors import DropRejected
from hub_assets.sources.intake import ingest_drop
from hub_assets.sources.landing import receive_new_drops
from hub_assets.sources.tokens import drop_token, record_token


def receive(hub, name):
    """Receive the agency's new files; the drop_ids just received."""
    return [c.drop_id for c in receive_new_drops(agency(name), hub.paths, set()).received]


def load(hub, name):
    return [ingest_drop(agency(name), d, hub) for d in receive(hub, name)]


def identity(hub, sql, params=None):
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        return con.sql(sql, params=params).pl()


def warehouse(hub, sql, params=None):
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        return con.sql(sql, params=params).pl()


def in_file_order(hub, name, drop_id, frame):
    """Warehouse rows in the order of the drop's file: the warehouse holds row tokens, and only
    the key recomputes which row of which file a token names."""
    rows = {record_token(hub.key(), f"{name}.row", f"{drop_id}:{n}"): n for n in range(1, frame.height + 100)}
    return frame.with_columns(pl.col("row_token").replace_strict(rows).alias("_row")).sort("_row").drop("_row")


def test_rows_received_equal_accepted_plus_quarantined(hub, write_drop):
    path = write_drop("family_league", "fl_ost_2024q2.csv", n=8, overrides={
        1: {"session_type": "weekend"},  # code not in set
        3: {"provider": ""},  # required value missing
        5: {"days_attended": "twelve"},  # not an integer
        6: {"session_start": "2024-06-01"},  # wrong date format for this agency (mm-dd-yyyy)
    })
    with path.open("a") as fh:
        fh.write("P9,too,few,fields\n")
    (result,) = load(hub, "family_league")
    assert result.rows_received == 9
    assert result.rows_accepted == 4
    assert result.rows_quarantined == 5
    assert result.quarantined_by_rule == {"code_not_in_set": 1, "required_missing": 1, "not_an_integer": 1,
                                          "date_format": 1, "wrong_field_count": 1}
    drops = identity(hub, "select * from drops")
    assert drops.select("rows_received", "rows_accepted", "rows_quarantined", "status").row(0) == (9, 4, 5, "accepted")
    assert warehouse(hub, "select count(*) n from raw.family_league")["n"][0] == 4
    quarantined = identity(hub, "select row_number, column_name, value_class, rule from quarantine order by 1")
    assert quarantined.rows() == [(2, "session_type", "letters", "code_not_in_set"),
                                  (4, "provider", "missing", "required_missing"),
                                  (6, "days_attended", "letters", "not_an_integer"),
                                  (7, "session_start", "date-like", "date_format"),
                                  (9, None, "4 fields", "wrong_field_count")]


def test_impossible_dates_are_quarantined(hub, write_drop):
    write_drop("city_schools", "cps_enrollment_2024_10.csv", n=4, overrides={
        0: {"BIRTH_DATE": "02/30/2014"}, 2: {"ENTRY_DATE": "13/25/2024"}})
    (result,) = load(hub, "city_schools")
    assert result.quarantined_by_rule == {"impossible_date": 2}
    rows = identity(hub, "select row_number, column_name, value_class, rule, raw_row from quarantine order by 1")
    assert rows.select("row_number", "column_name", "rule").rows() == [
        (1, "BIRTH_DATE", "impossible_date"), (3, "ENTRY_DATE", "impossible_date")]
    assert json.loads(rows["raw_row"][0])["BIRTH_DATE"] == "02/30/2014"  # kept whole, in the identity zone
    assert "02/30/2014" not in result.report_path.read_text()  # the steward report names no values


BAD_FILES = {
    "empty": (b"", "the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
    "wrong encoding": (None, "not in the declared encoding utf-8"),
    "required column missing": (None, "declared columns missing from the header: ['GRADE']"),
    "header changed": (None, "columns not in the declaration: ['GRADE_LEVEL']"),
    "wrong delimiter": (None, "it looks '|'-delimited"),
}


def _bad_bytes(kind: str) -> bytes:
    from conftest import drop_text

    source = agency("city_schools")
    rows = [valid_row(source, i) for i in range(3)]
    text = drop_text(source, rows)
    if kind == "wrong encoding":
        return text.replace("Ann", "Zoë").encode("latin-1")
    if kind == "required column missing":
        return drop_text(source, rows, [c for c in source.expected_columns if c != "GRADE"]).encode()
    if kind == "header changed":
        return text.replace("GRADE,", "GRADE_LEVEL,", 1).encode()
    if kind == "wrong delimiter":
        return text.replace(",", "|").encode()
    return BAD_FILES[kind][0]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_unreadable_file_is_rejected_with_one_clear_message_and_nothing_loaded(hub, write_drop, kind):
    write_drop("city_schools", "cps_enrollment_2024_08.csv", n=3)
    load(hub, "city_schools")  # an earlier good drop, which must stay intact
    write_drop("city_schools", "cps_enrollment_2024_09.csv", raw=_bad_bytes(kind))
    (drop_id,) = receive(hub, "city_schools")
    with pytest.raises(DropRejected) as err:
        ingest_drop(agency("city_schools"), drop_id, hub)
    message = str(err.value)
    assert message.startswith("agency city_schools: file cps_enrollment_2024_09.csv: ")
    assert BAD_FILES[kind][1] in message
    # Nothing half-loaded: the bad drop has no rows anywhere, the good one is untouched.
    assert identity(hub, "select distinct drop_id from records")["drop_id"].to_list() == ["cps_enrollment_2024_08.csv"]
    assert warehouse(hub, "select distinct drop_token from raw.city_schools")["drop_token"].to_list() == [
        drop_token(hub.key(), "city_schools", "cps_enrollment_2024_08.csv")]
    assert identity(hub, "select status from drops where drop_id = ?", [drop_id])["status"].to_list() == ["rejected"]
    # Nothing lost: the file is kept as delivered and the steward gets the reason.
    assert (hub.paths.archive / "city_schools" / drop_id).read_bytes() == _bad_bytes(kind)
    assert BAD_FILES[kind][1] in (hub.paths.reports / "city_schools" / f"{drop_id}.md").read_text()


def test_failed_warehouse_write_leaves_no_identity_rows(hub, write_drop):
    write_drop("wage_records", "ui_wages_2024q1.csv", n=3)
    (drop_id,) = receive(hub, "wage_records")
    with duckdb.connect(str(hub.paths.warehouse_db)) as con:
        # A warehouse table someone altered by hand: the insert fails on the extra NOT NULL column.
        con.execute("create schema raw; create table raw.wage_records (record_token varchar, drop_token varchar, "
                    "row_token varchar, loaded_at timestamp, year_qtr varchar, employer_token varchar, "
                    "naics2 varchar, wages double, race_ethnicity varchar, neighbourhood varchar, "
                    "audited boolean not null)")
    with pytest.raises(duckdb.Error):
        ingest_drop(agency("wage_records"), drop_id, hub)
    assert identity(hub, "select count(*) n from records")["n"][0] == 0
    assert identity(hub, "select count(*) n from drops")["n"][0] == 0


def _state(hub, name):
    return (identity(hub, "select * exclude (loaded_at) from records order by record_token, drop_id"),
            warehouse(hub, f"select * from raw.{name} order by drop_token, row_token"),
            identity(hub, "select * from drops order by drop_id"))


def test_redelivered_drop_changes_nothing(hub, write_drop):
    path = write_drop("rec_parks", "recparks_registrations_2024w31.csv", n=5)
    load(hub, "rec_parks")
    before = _state(hub, "rec_parks")
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)  # the same bytes, delivered again
    assert receive_new_drops(agency("rec_parks"), hub.paths, {"recparks_registrations_2024w31.csv"}).drop_ids == []
    after = _state(hub, "rec_parks")
    for b, a in zip(before, after):
        assert b.equals(a)


def test_corrected_redelivery_supersedes(hub, write_drop):
    source = agency("youthworks")
    write_drop("youthworks", "youthworks_2024.csv", n=4)
    load(hub, "youthworks")
    corrected = [valid_row(source, i) for i in range(4)]
    corrected[1]["hours_worked"] = "99.5"
    corrected = corrected[:3] + [valid_row(source, 10)]  # one person removed, one added
    write_drop("youthworks", "youthworks_2024.csv", rows=corrected)
    (result,) = load(hub, "youthworks")
    assert result.drop_id == "youthworks_2024.csv~v2"
    assert result.supersedes == "youthworks_2024.csv"
    drops = identity(hub, "select drop_id, version, supersedes, status from drops order by version")
    assert drops.rows() == [("youthworks_2024.csv", 1, None, "superseded"),
                            ("youthworks_2024.csv~v2", 2, "youthworks_2024.csv", "accepted")]
    assert identity(hub, "select distinct drop_id from records")["drop_id"].to_list() == ["youthworks_2024.csv~v2"]
    assert sorted(identity(hub, "select record_id from current_records")["record_id"]) == [
        "P00000", "P00001", "P00002", "P00010"]
    rows = in_file_order(hub, "youthworks", "youthworks_2024.csv~v2",
                         warehouse(hub, "select drop_token, row_token, hours_worked from raw.youthworks"))
    assert rows["drop_token"].unique().to_list() == [drop_token(hub.key(), "youthworks", "youthworks_2024.csv~v2")]
    assert rows["hours_worked"][1] == 99.5
    # Both versions stay in the archive, each with its checksum.
    archived = sorted(p.name for p in (hub.paths.archive / "youthworks").iterdir())
    assert archived == ["youthworks_2024.csv", "youthworks_2024.csv.sha256",
                        "youthworks_2024.csv~v2", "youthworks_2024.csv~v2.sha256"]


def test_unmatched_file_is_reported(hub, instance, write_drop):
    from hub_assets.runtime.register import register_new_drops

    write_drop("wage_records", "ui_wages_2024q2.csv")
    write_drop("wage_records", "wages Q2 (copy).csv")
    added = register_new_drops(instance, hub)
    assert added == {"wage_records": ["ui_wages_2024q2.csv"]}
    assert added.unmatched == ["wage_records/wages Q2 (copy).csv"]
    assert "wages Q2 (copy).csv" in (hub.paths.reports / "unmatched_files.md").read_text()


def test_two_people_in_one_row_become_two_identity_sources(hub, write_drop):
    write_drop("vital_records", "vital_births_2023.csv", n=3,
               overrides={2: {"mother_key": "M00000"}})  # a mother with two births in the file
    load(hub, "vital_records")
    counts = identity(hub, "select source, count(*) n from records group by 1 order by 1")
    assert counts.rows() == [("vital_records", 3), ("vital_records_mother", 2)]
    raw = in_file_order(hub, "vital_records", "vital_births_2023.csv",
                        warehouse(hub, "select row_token, record_token, mother_record_token from raw.vital_records"))
    mothers = identity(hub, "select record_token from records where source = 'vital_records_mother'")
    assert set(raw["mother_record_token"]) == set(mothers["record_token"])
    assert raw["mother_record_token"][0] == raw["mother_record_token"][2]


def test_no_identifier_reaches_the_warehouse(hub, write_drop):
    for source in load_agencies():
        write_drop(source.name, source.file_pattern.replace("*", "2024"), n=12)
        load(hub, source.name)
    records = identity(hub, "select * from records")
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert len(tables) >= len(load_agencies())
        forbidden = identifier_column_names()
        identifiers = set()
        for col in ("record_id", "first_name", "last_name", "address"):
            identifiers |= {v for v in records[col].drop_nulls().to_list() if len(v) >= 4}
        identifiers |= {d.isoformat() for d in records["dob"].drop_nulls()}
        # Agency-assigned identifiers among the content, and the drops' own IDs.
        identifiers |= set(identity(hub, "select value from identifiers")["value"])
        identifiers |= set(identity(hub, "select drop_id from drops")["drop_id"])
        # Every agency that declares an agency-assigned identifier among its content had its values kept.
        declaring = {s.name for s in load_agencies() if any(c.identifier for c in s.content)}
        assert len(declaring) >= 4
        assert set(identity(hub, "select distinct agency from identifiers")["agency"]) == declaring
        for schema, table in tables:
            frame = con.sql(f'select * from "{schema}"."{table}"').pl()
            assert not set(frame.columns) & forbidden, f"{schema}.{table} has identifier columns"
            cells = {v.upper() for c in frame.columns for v in frame[c].cast(pl.String).drop_nulls()}
            leaked = {i for i in identifiers if i.upper() in cells}
            assert not leaked, f"{schema}.{table} holds identifier values {sorted(leaked)[:5]}"
            # No record id or name hidden inside a longer value either.
            blob = " ".join(cells)
            assert not [i for i in identifiers if re.search(rf"\b{re.escape(i.upper())}\b", blob)]
