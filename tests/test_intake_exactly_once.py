"""Exactly once by content: the same bytes under another name are not loaded again, a file is
taken only once it is complete, and rows repeated within a drop are quarantined."""

import shutil
import threading
import time

import dagster as dg
import duckdb
from conftest import drop_text, valid_row

from hub_assets.defs.sources.sensors import build_drops_sensor
from hub_assets.sources.declaration import agency
from hub_assets.sources.intake import ingest_drop
from hub_assets.sources.landing import landing_fingerprint, receive_new_drops, settled


def test_the_same_bytes_under_a_new_name_are_reported_and_not_loaded_again(hub, write_drop):
    first = write_drop("rec_parks", "recparks_registrations_2024w31.csv", n=6)
    (drop_id,) = receive_new_drops(agency("rec_parks"), hub.paths, set()).drop_ids
    ingest_drop(agency("rec_parks"), drop_id, hub)
    shutil.copyfile(first, first.with_name("recparks_registrations_2024w32.csv"))

    registration = receive_new_drops(agency("rec_parks"), hub.paths, {drop_id})

    assert registration.drop_ids == [] and registration.received == []
    assert [(u.file_name, u.reason) for u in registration.duplicates] == [
        ("recparks_registrations_2024w32.csv", "has the same bytes (sha256) as drop "
         "recparks_registrations_2024w31.csv, already received; it is not loaded again")]
    report = (hub.paths.reports / "unmatched_files.md").read_text()
    assert "| rec_parks | recparks_registrations_2024w32.csv | has the same bytes (sha256) as drop" in report
    assert not (hub.paths.archive / "rec_parks" / "recparks_registrations_2024w32.csv").exists()
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        assert con.execute("select count(*) from raw.rec_parks").fetchone()[0] == 6


def test_two_copies_arriving_together_load_once(hub, write_drop):
    first = write_drop("rec_parks", "recparks_registrations_2024w31.csv", n=6)
    shutil.copyfile(first, first.with_name("recparks_registrations_2024w31_copy.csv"))
    registration = receive_new_drops(agency("rec_parks"), hub.paths, set())
    assert registration.drop_ids == ["recparks_registrations_2024w31.csv"]
    assert [u.file_name for u in registration.duplicates] == ["recparks_registrations_2024w31_copy.csv"]


def test_a_file_is_taken_only_once_it_is_the_same_at_two_looks(hub, write_drop):
    source = agency("hmis")
    whole = drop_text(source, [valid_row(source, i) for i in range(40)]).encode()
    path = write_drop("hmis", "hmis_enrollments_2024_09.csv", raw=whole[: len(whole) // 2])
    first = landing_fingerprint(hub.paths, "hmis")
    with path.open("ab") as fh:  # the copy goes on between the two looks
        fh.write(whole[len(whole) // 2:])
    second = landing_fingerprint(hub.paths, "hmis")

    still = receive_new_drops(source, hub.paths, set(), settled(first, second))
    assert still.drop_ids == [] and still.arriving == ["hmis_enrollments_2024_09.csv"]
    assert not (hub.paths.archive / "hmis").exists()

    done = receive_new_drops(source, hub.paths, set(), settled(second, landing_fingerprint(hub.paths, "hmis")))
    assert done.drop_ids == ["hmis_enrollments_2024_09.csv"]
    assert (hub.paths.archive / "hmis" / "hmis_enrollments_2024_09.csv").read_bytes() == whole


def test_the_sensor_does_not_take_a_file_while_it_is_being_copied(hub, instance, write_drop):
    source = agency("hmis")
    whole = drop_text(source, [valid_row(source, i) for i in range(400)]).encode()
    path = write_drop("hmis", "hmis_enrollments_2024_09.csv", raw=b"")
    chunks = [whole[i:i + len(whole) // 12 + 1] for i in range(0, len(whole), len(whole) // 12 + 1)]

    def copy_slowly():
        for chunk in chunks:
            with path.open("ab") as fh:
                fh.write(chunk)
            time.sleep(0.4)

    copier = threading.Thread(target=copy_slowly)
    copier.start()
    sensor = build_drops_sensor(source)
    during = sensor(dg.build_sensor_context(instance=instance, resources={"hub": hub}))
    copier.join()
    assert not during.run_requests
    assert not (hub.paths.archive / "hmis").exists()

    after = sensor(dg.build_sensor_context(instance=instance, cursor=during.cursor, resources={"hub": hub}))
    assert [r.partition_key for r in after.run_requests] == ["hmis_enrollments_2024_09.csv"]
    assert (hub.paths.archive / "hmis" / "hmis_enrollments_2024_09.csv").read_bytes() == whole


def test_rows_repeated_within_a_drop_are_quarantined_with_their_reason(hub, write_drop):
    source = agency("family_league")
    rows = [valid_row(source, i) for i in range(6)]
    write_drop("family_league", "fl_ost_2024q2.csv", rows=[*rows, rows[1], rows[4], rows[1]])
    (drop_id,) = receive_new_drops(source, hub.paths, set()).drop_ids

    result = ingest_drop(source, drop_id, hub)

    assert (result.rows_received, result.rows_accepted, result.rows_quarantined) == (9, 6, 3)
    assert result.quarantined_by_rule == {"duplicate_row": 3}
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        rows = con.execute("select agency, file_name, row_number, column_name, rule, value_class "
                           "from quarantine order by row_number").fetchall()
    assert rows == [("family_league", "fl_ost_2024q2.csv", 7, None, "duplicate_row", "same as row 2"),
                    ("family_league", "fl_ost_2024q2.csv", 8, None, "duplicate_row", "same as row 5"),
                    ("family_league", "fl_ost_2024q2.csv", 9, None, "duplicate_row", "same as row 2")]
    report = result.report_path.read_text()
    assert "| 7 |  | duplicate_row | same as row 2 |" in report
