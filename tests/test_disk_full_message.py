"""A full disk is recognised however it surfaces (an ENOSPC OSError anywhere in the exception
chain, SQLite's "disk I/O error", DuckDB's "No space left on device") and reported with the
directory and its free space; other errors are not mistaken for it."""

from __future__ import annotations

import errno
import shutil
import sqlite3

from hub_assets.runtime.disk import disk_full, disk_full_message


def test_enospc_in_the_chain_is_a_full_disk():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/srv/hub/data/archive/x.csv")
        except OSError as inner:
            raise RuntimeError("step failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)


def test_sqlite_and_duckdb_wordings_are_a_full_disk():
    assert disk_full(sqlite3.OperationalError("disk I/O error"))
    assert disk_full("linkage__person_keys: IO Error: Could not write file: No space left on device")


def test_other_errors_are_not_a_full_disk():
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ValueError("rec_parks: file x.csv row 3 column DOB: not a date"))


def test_the_message_names_each_directory_and_its_free_space(tmp_path):
    message = disk_full_message([tmp_path, tmp_path], sqlite3.OperationalError("disk I/O error"))
    free_mb = shutil.disk_usage(tmp_path).free / 1e6
    assert message.startswith("the disk is full")
    assert message.count(f"{tmp_path}: ") == 1
    assert f"{free_mb:,.0f}"[:3] in message
    assert "disk I/O error" in message
