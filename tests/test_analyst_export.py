"""``hub export-analyst``: only the analyst role's schemas, no identity-zone table, no record
tokens; the export passes the identifier scan and is audited."""

import duckdb
from click.testing import CliRunner

from hub_assets.cli import main
from hub_assets.privacy import audit
from hub_assets.privacy.identifier_scan import scan_database


def _hub(data):
    data.mkdir()
    with duckdb.connect(str(data / "identity.duckdb")) as con:
        con.execute("create table records as select 'tok1' record_token, 'rec_parks' source, 'RP-000101' record_id, "
                    "'JAMAL' first_name, 'WASHINGTON' last_name, date '2009-03-14' dob, '1204 N CHARLES ST' address")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema raw; create schema staging; create schema spine; create schema marts")
        con.execute("create table raw.rec_parks as select 'tok1' record_token, 'SWIM' program")
        con.execute("create view staging.stg_rec_parks as select 'P1' person_key, record_token, program from raw.rec_parks")
        con.execute("create table spine.person_crosswalk as select 'tok1' record_token, 'P1' person_key, 'rec_parks' source")
        con.execute("create table marts.summer as select 'Hamilton' neighbourhood, 40 participants")


def test_export_holds_only_analyst_schemas_without_tokens_and_scans_clean(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_USER", "analyst-handover")
    data, out = tmp_path / "data", tmp_path / "handover" / "analyst.duckdb"
    _hub(data)
    result = CliRunner().invoke(main, ["export-analyst", str(out), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out), read_only=True) as con:
        tables = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                             "order by 1").fetchall()
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        assert con.execute("select * from staging.stg_rec_parks").fetchall() == [("P1", "SWIM")]
    assert [t[0] for t in tables] == ["marts.summer", "spine.person_crosswalk", "staging.stg_rec_parks"]
    assert not any("record_token" in c for c in columns)  # no key back into the identity zone
    assert scan_database(out, data / "identity.duckdb") == []
    [event] = audit.read_log(data)
    assert event["action"] == "analyst_export" and event["digest"] == audit.sha256_file(out)
    assert event["who"] == "analyst-handover"


def test_an_export_that_would_leak_is_deleted_and_refused(tmp_path):
    data, out = tmp_path / "data", tmp_path / "analyst.duckdb"
    _hub(data)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create table marts.oops as select 'P1' person_key, '1204 N CHARLES ST' home")
    result = CliRunner().invoke(main, ["export-analyst", str(out), "--data-dir", str(data)])
    assert result.exit_code == 1 and "marts.oops.home" in result.output
    assert not out.exists()
