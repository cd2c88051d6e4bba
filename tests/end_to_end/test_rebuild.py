"""A lost or corrupt store is refused at start-up, naming it, and ``hub rebuild`` recreates both
stores from the archive and the saved state with the same person keys and public files."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from hub_assets.settings import HubPaths

from .conftest import E2E_SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]


def _hub(data: Path, command: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY=E2E_SECRET_KEY,
               DAGSTER_HOME=str(data / ".dagster"))
    return subprocess.run([sys.executable, "-m", "hub_assets.cli", command], env=env,
                          capture_output=True, text=True, timeout=1800)


def _rows(path: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.execute(query).fetchall())


def _public(paths: HubPaths) -> dict[str, str]:
    return {str(p.relative_to(paths.public)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.public.glob("*/*.csv"))}


def test_a_lost_warehouse_and_a_corrupt_identity_store_are_refused_then_rebuilt(built_hub, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built_hub.paths.root, data, symlinks=True)
    paths = HubPaths(data)
    published = _public(paths)
    assert (data / "state" / "person_keys.parquet").exists(), "hub run saved no state"

    # The warehouse is gone: refused, by name, and nothing republished.
    paths.warehouse_db.unlink()
    refused = _hub(data, "run")
    assert refused.returncode == 1
    assert f"the warehouse {paths.warehouse_db} is missing" in refused.stderr
    assert "hub rebuild" in refused.stderr
    assert not paths.warehouse_db.exists() and _public(paths) == published

    # The identity store is truncated: refused, by name.
    whole = paths.identity_db.read_bytes()
    paths.identity_db.write_bytes(whole[: len(whole) // 3])
    refused = _hub(data, "run")
    assert refused.returncode == 1
    assert f"the identity store {paths.identity_db} cannot be opened" in refused.stderr

    rebuilt = _hub(data, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    assert "restored" in rebuilt.stdout and "person_keys" in rebuilt.stdout
    assert list(data.glob("identity.duckdb.before-rebuild-*")), "the corrupt store was not kept"

    keys = "select record_token, person_key from person_keys"
    assert _rows(paths.identity_db, keys) == _rows(built_hub.paths.identity_db, keys)
    events = "select event, before_key, after_key, n_records from key_events"
    assert _rows(paths.identity_db, events) == _rows(built_hub.paths.identity_db, events)
    raw = "select count(*) from raw.city_schools"
    assert _rows(paths.warehouse_db, raw) == _rows(built_hub.paths.warehouse_db, raw)
    assert _public(paths) == published

    # And the hub runs on from there.
    again = _hub(data, "run")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 new drop(s)" in again.stdout
