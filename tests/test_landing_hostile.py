"""Landing is written by others: links, folders, devices, hard links and undeclared agencies'
folders are refused and reported, and nothing outside landing is ever read."""

import os

from hub_assets.sources.declaration import agency, load_agencies
from hub_assets.sources.landing import receive_new_drops, report_landing_root


def report(hub):
    return (hub.paths.reports / "unmatched_files.md").read_text()


def test_a_symlink_in_landing_is_refused_and_never_followed(hub, tmp_path, write_drop):
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    good = write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    (good.parent / "hmis_enrollments_2024_10.csv").symlink_to(secret)

    registration = receive_new_drops(agency("hmis"), hub.paths, set())

    assert registration.drop_ids == ["hmis_enrollments_2024_09.csv"]
    assert [(u.file_name, u.reason.split(";")[0]) for u in registration.unmatched] == [
        ("hmis_enrollments_2024_10.csv", "is a symbolic link")]
    assert not (hub.paths.archive / "hmis" / "hmis_enrollments_2024_10.csv").exists()
    text = report(hub)
    assert "| hmis | hmis_enrollments_2024_10.csv | is a symbolic link" in text
    assert "root:x" not in text  # the target was never read
    for path in hub.paths.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert b"root:x:0:0" not in path.read_bytes(), path


def test_folders_pipes_and_hard_links_in_an_agency_folder_are_refused_and_reported(hub, tmp_path, write_drop):
    good = write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    folder = good.parent
    (folder / "hmis_enrollments_2024_10.csv").mkdir()
    os.mkfifo(folder / "hmis_enrollments_2024_11.csv")  # opening it would block a reader forever
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(good.read_bytes().replace(b"21201", b"21202"))
    os.link(outside, folder / "hmis_enrollments_2024_12.csv")

    registration = receive_new_drops(agency("hmis"), hub.paths, set())

    assert registration.drop_ids == ["hmis_enrollments_2024_09.csv"]
    reasons = {u.file_name: u.reason for u in registration.unmatched}
    assert reasons["hmis_enrollments_2024_10.csv"].startswith("is a directory")
    assert reasons["hmis_enrollments_2024_11.csv"].startswith("is not a regular file")
    assert reasons["hmis_enrollments_2024_12.csv"].startswith("is a hard link")
    assert sorted(p.name for p in (hub.paths.archive / "hmis").iterdir()) == [
        "hmis_enrollments_2024_09.csv", "hmis_enrollments_2024_09.csv.sha256"]
    text = report(hub)
    for name in reasons:
        assert f"| hmis | {name} |" in text


def test_undeclared_agency_folders_and_stray_files_in_landing_are_reported(hub, write_drop):
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3)
    (hub.paths.landing / "community_outreach").mkdir()
    (hub.paths.landing / "community_outreach" / "outreach_2024.csv").write_text("a,b\n1,2\n")
    (hub.paths.landing / "loose_file.csv").write_text("a,b\n1,2\n")

    refused = report_landing_root(hub.paths, [s.name for s in load_agencies()])

    assert [(u.agency, u.file_name) for u in refused] == [("(landing)", "community_outreach/"),
                                                          ("(landing)", "loose_file.csv")]
    assert "no agency is declared" in refused[0].reason
    text = report(hub)
    assert "| (landing) | community_outreach/ | no agency is declared" in text
    assert "| (landing) | loose_file.csv | is not inside an agency's folder" in text


def test_an_agency_folder_that_is_a_link_is_refused_and_not_read(hub, tmp_path, write_drop):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_drop("hmis", "hmis_enrollments_2024_09.csv", n=3).rename(elsewhere / "hmis_enrollments_2024_09.csv")
    (hub.paths.landing / "hmis").rmdir()
    (hub.paths.landing / "hmis").symlink_to(elsewhere, target_is_directory=True)

    refused = report_landing_root(hub.paths, [s.name for s in load_agencies()])
    registration = receive_new_drops(agency("hmis"), hub.paths, set())

    assert [(u.file_name, u.reason.split(" but")[0]) for u in refused] == [
        ("hmis", "is agency hmis's landing folder")]
    assert registration.drop_ids == [] and not registration.received
