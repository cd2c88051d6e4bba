"""Permissions as a checked contract: the identity store, the archive and the key file are the
owning account's only from the moment they are created, the development key lives outside the
data directory, and a group- or world-readable one stops the hub, naming the path."""

import os
import re
import stat

import pytest
from click.testing import CliRunner
from conftest import valid_row

from hub_assets.cli import main
from hub_assets.defs.resources import HubResource
from hub_assets.settings import HubPaths, require_private
from hub_assets.sources.declaration import agency
from hub_assets.sources.landing import receive_new_drops
from hub_assets.sources.tokens import resolve_secret_key


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """A permissive umask, as on many shared machines: modes must not depend on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_identity_store_and_its_wal_are_created_owner_only(hub, open_umask):
    with hub.identity() as con:
        con.execute("create table t as select 1 x")
        con.execute("insert into t values (2)")
        wal = hub.paths.identity_db.with_name("identity.duckdb.wal")
        if wal.exists():
            assert mode(wal) == 0o600
    assert mode(hub.paths.identity_db) == 0o600
    assert os.umask(0o022) == 0o022  # the process umask is back as it was


def test_archive_files_and_directories_are_created_owner_only(hub, write_drop, open_umask):
    write_drop("rec_parks", "recparks_registrations_2024w31.csv", n=3)
    (received,) = receive_new_drops(agency("rec_parks"), hub.paths, set()).received
    archived = hub.paths.archive / "rec_parks" / received.drop_id
    assert mode(hub.paths.archive) == 0o700
    assert mode(archived.parent) == 0o700
    assert mode(archived) == 0o400  # immutable and private
    assert mode(archived.with_name(archived.name + ".sha256")) == 0o600
    require_private(hub.paths)  # the contract holds


def test_development_key_is_made_owner_only_outside_the_data_directory(tmp_path, monkeypatch, open_umask):
    monkeypatch.delenv("HUB_SECRET_KEY", raising=False)
    monkeypatch.delenv("HUB_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    paths = HubPaths(tmp_path / "data").ensure()
    key = resolve_secret_key(None, paths)
    key_file = tmp_path / "config" / "youth-data-hub" / "dev_secret_key"
    assert key_file.read_text().strip().encode() == key and len(key) == 64
    assert mode(key_file) == 0o600 and mode(key_file.parent) == 0o700
    assert not [p for p in paths.root.rglob("*") if "secret" in p.name]  # nothing key-like in the data
    assert resolve_secret_key(None, paths) == key  # made once, then read


def test_a_key_file_inside_the_data_directory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_KEY_FILE", str(tmp_path / "data" / ".dev_secret_key"))
    with pytest.raises(PermissionError, match="inside the data directory"):
        HubPaths(tmp_path / "data").ensure()


def test_a_world_readable_identity_store_stops_the_hub_naming_it(hub, tmp_path, monkeypatch):
    with hub.identity() as con:
        con.execute("create table records (x int)")
    paths = hub.paths
    paths.identity_db.chmod(0o644)
    with pytest.raises(PermissionError, match=re.escape(str(paths.identity_db))):
        require_private(paths)
    with pytest.raises(PermissionError, match="identity.duckdb"):
        _ = HubResource(data_dir=hub.data_dir).paths  # resource setup: every asset and check
    result = CliRunner().invoke(main, ["review", "list", "--data-dir", hub.data_dir])
    assert result.exit_code != 0 and str(paths.identity_db) in result.output


@pytest.mark.parametrize("loosen", ["archive_dir", "archive_file", "key_file"])
def test_a_group_readable_archive_or_key_stops_the_hub_naming_it(hub, write_drop, tmp_path, monkeypatch, loosen):
    monkeypatch.delenv("HUB_SECRET_KEY", raising=False)
    monkeypatch.setenv("HUB_KEY_FILE", str(tmp_path / "keys" / "hub.key"))
    resolve_secret_key(None, hub.paths)
    write_drop("rec_parks", "recparks_registrations_2024w31.csv", n=2)
    (received,) = receive_new_drops(agency("rec_parks"), hub.paths, set()).received
    target = {"archive_dir": hub.paths.archive / "rec_parks",
              "archive_file": hub.paths.archive / "rec_parks" / received.drop_id,
              "key_file": tmp_path / "keys" / "hub.key"}[loosen]
    paths = hub.paths
    target.chmod(0o750 if target.is_dir() else 0o440)
    with pytest.raises(PermissionError, match=re.escape(str(target))):
        require_private(paths)


def test_valid_rows_still_load_under_the_contract(hub, write_drop):
    # The whole intake path runs with the contract checked at each resource use.
    from hub_assets.sources.intake import ingest_drop

    source = agency("youthworks")
    write_drop("youthworks", "youthworks_2024.csv", rows=[valid_row(source, i) for i in range(3)])
    (received,) = receive_new_drops(source, hub.paths, set()).received
    assert ingest_drop(source, received.drop_id, hub).rows_accepted == 3
    require_private(hub.paths)
