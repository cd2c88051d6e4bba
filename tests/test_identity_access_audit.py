"""Every read of the identity zone through ``hub`` is in the audit log with who read it and why:
``review show`` / ``list`` / ``decide``, ``link`` on files from the hub's data directory, and
the analyst export (which reads the identity zone to prove itself clean). A read without a
purpose is refused before anything is read."""

import duckdb
import polars as pl
from click.testing import CliRunner

from hub_assets.cli import main
from hub_assets.governance import audit
from hub_assets.linkage import store
from hub_assets.linkage.incremental import REVIEW_SCHEMA
from hub_assets.settings import private_files

QUEUE = pl.DataFrame({"record_token": ["new1"], "attached_key": ["A"], "candidate_keys": [["A", "B"]],
                      "best_probability": [0.97], "reason": ["matches more than one existing person"],
                      "queued_at": [None]}, schema=REVIEW_SCHEMA)


def _identity_zone(data):
    data.mkdir(exist_ok=True)
    with private_files(), duckdb.connect(str(data / "identity.duckdb")) as con:
        store.append(con, "review_queue", QUEUE)
        con.execute("create table current_records as select 'new1' record_token, 'city_schools' source, "
                    "'DESTINY' first_name, null middle_name, 'HARRIS' last_name, date '2009-04-02' dob, 'F' sex, "
                    "'12 YORK RD' address, '21218' zip, null ssn")
        store.replace(con, "person_keys", pl.DataFrame({"record_token": ["new1"], "person_key": ["A"]}))


def _reads(data):
    return [e for e in audit.read_log(data) if e["action"] == audit.IDENTITY_ACCESS]


def test_review_show_is_audited_with_actor_and_purpose(tmp_path, monkeypatch):
    data = tmp_path / "data"
    _identity_zone(data)
    monkeypatch.setenv("HUB_USER", "os-account")
    result = CliRunner().invoke(main, ["review", "show", "new1", "--purpose", "duplicate check, ticket 41",
                                       "--by", "J. Reviewer", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    [event] = _reads(data)
    assert event["who"] == "J. Reviewer" and event["purpose"] == "duplicate check, ticket 41"
    assert "new1" in event["what"]
    # Without --by the OS account is the actor.
    CliRunner().invoke(main, ["review", "list", "--data-dir", str(data)])
    assert [(e["who"], e["purpose"]) for e in _reads(data)][-1] == ("os-account", "clerical review")


def test_a_read_without_a_purpose_is_refused_before_reading(tmp_path):
    data = tmp_path / "data"
    _identity_zone(data)
    missing = CliRunner().invoke(main, ["review", "show", "new1", "--data-dir", str(data)])
    assert missing.exit_code != 0 and "--purpose" in missing.output
    blank = CliRunner().invoke(main, ["review", "show", "new1", "--purpose", "  ", "--data-dir", str(data)])
    assert blank.exit_code != 0 and "purpose" in blank.output and "HARRIS" not in blank.output
    assert _reads(data) == []


def test_link_on_the_hubs_own_files_is_audited_and_outside_files_are_not(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # One record: the audit is the point here, not the model (linking is tested elsewhere).
    rows = pl.DataFrame({"record_id": ["a1"], "first_name": ["ANN"], "last_name": ["LEE"], "dob": ["2009-01-02"]})
    inside, outside = data / "extract.csv", tmp_path / "elsewhere.csv"
    rows.write_csv(inside)
    rows.write_csv(outside)
    refused = CliRunner().invoke(main, ["link", str(inside), "--out", str(tmp_path / "o.csv"),
                                        "--data-dir", str(data)])
    assert refused.exit_code != 0 and "purpose" in refused.output and not (tmp_path / "o.csv").exists()
    done = CliRunner().invoke(main, ["link", str(inside), "--out", str(tmp_path / "o.csv"), "--purpose",
                                     "linkage audit", "--by", "analyst A", "--data-dir", str(data)])
    assert done.exit_code == 0, done.output
    [event] = _reads(data)
    assert (event["who"], event["purpose"]) == ("analyst A", "linkage audit") and "extract.csv" in event["what"]
    CliRunner().invoke(main, ["link", str(outside), "--out", str(tmp_path / "p.csv"), "--data-dir", str(data)])
    assert len(_reads(data)) == 1


def test_access_events_reach_the_audit_table_with_their_purpose(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    audit.record_access(data, "review show t1", "clerical review", "J. Reviewer")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        assert audit.sync_table(con, data) == 1
        assert con.execute('select "who", "action", "purpose" from audit.events').fetchall() == [
            ("J. Reviewer", "identity_access", "clerical review")]
        assert audit.verify(con, data) == []
