"""``kill -9`` of ``hub run`` during linkage, during the dbt build and during the public stage:
each rerun releases the dead run's claims and goes on, and the last one equals a clean run
(the same people under the person keys, the same public files)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from hub_assets.settings import FIXTURE_CITY_DIR, HubPaths

from .conftest import E2E_SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]


def _start(data: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY=E2E_SECRET_KEY,
               DAGSTER_HOME=str(data / ".dagster"), PYTHONUNBUFFERED="1")
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "hub_assets.cli", "run"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _kill_during(process: subprocess.Popen, log: Path, data: Path, stage: Callable[[str], bool],
                 after: str | None = None, delay: float = 1.0) -> str:
    """``kill -9`` the run ``delay`` s after a run of the stage (an asset key matching ``stage``)
    is STARTED and, if given, ``after`` has appeared in the output."""
    deadline = time.monotonic() + 1200
    while not (any(stage(key) for key in _in_progress_assets(data))
               and (after is None or after in log.read_text())):
        assert process.poll() is None, f"hub run ended before the stage:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return log.read_text()


def _in_progress_assets(data: Path) -> set[str]:
    """The assets of the runs left (or still) in progress."""
    if not (data / ".dagster" / "dagster.yaml").exists():
        return set()
    os.environ["DAGSTER_HOME"] = str(data / ".dagster")
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        return {key.to_user_string() for run in runs for key in run.asset_selection or ()}


def _people(paths: HubPaths) -> set[frozenset[str]]:
    """Who is the same person: the records under each person key. Keys themselves are random
    (hub_assets/linkage/keys.py), so two clean builds agree on the people, not on the labels."""
    with duckdb.connect(str(paths.identity_db), read_only=True) as con:
        groups = con.execute("select list(record_token) from person_keys group by person_key").fetchall()
    return {frozenset(tokens) for (tokens,) in groups}


def _public_files(paths: HubPaths) -> dict[str, str]:
    """Every published table, by content: CSV bytes, Parquet rows."""
    out = {}
    for csv in sorted(paths.public.glob("*/*.csv")):
        out[str(csv.relative_to(paths.public))] = hashlib.sha256(csv.read_bytes()).hexdigest()
    with duckdb.connect() as con:
        for parquet in sorted(paths.public.glob("*/*.parquet")):
            rows = con.execute(f"select * from read_parquet('{parquet}') order by all").fetchall()
            out[str(parquet.relative_to(paths.public))] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def test_a_kill_at_linkage_dbt_and_public_then_a_rerun_equals_a_clean_run(built_hub, tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    data = tmp_path / "data"
    shutil.copytree(FIXTURE_CITY_DIR / "landing", data / "landing")
    paths = HubPaths(data)

    # 1. During linkage (the model is trained and people formed in this process).
    log = tmp_path / "1.log"
    out = _kill_during(_start(data, log), log, data, lambda key: key.startswith("linkage/"), delay=1.0)
    assert "[stage 2]" not in out
    assert "linkage/person_keys" in _in_progress_assets(data)

    # 2. During the dbt build (a subprocess of hub run, which may outlive it).
    log = tmp_path / "2.log"
    out = _kill_during(_start(data, log), log, data, lambda key: key.startswith("marts/"),
                       after="START sql", delay=1.0)
    assert "which is gone: marked failed, its pool slots freed" in out, out[-3000:]
    assert "[stage 4]" not in out
    assert any(key.startswith("marts/") for key in _in_progress_assets(data))

    # 3. During the public stage.
    log = tmp_path / "3.log"
    out = _kill_during(_start(data, log), log, data, lambda key: key.startswith("public/"), delay=2.0)
    assert "which is gone: marked failed" in out, out[-3000:]
    assert "Public zone" not in out  # killed before its summary
    assert any(key.startswith("public/") for key in _in_progress_assets(data))

    # 4. The rerun completes and equals the clean build.
    log = tmp_path / "4.log"
    final = _start(data, log)
    assert final.wait(timeout=1800) == 0, log.read_text()[-4000:]
    out = log.read_text()
    assert "which is gone: marked failed" in out
    assert _in_progress_assets(data) == set()
    assert _people(paths) == _people(built_hub.paths)
    assert _public_files(paths) == _public_files(built_hub.paths)
    with dg.DagsterInstance.get() as instance:
        assert instance.event_log_storage.get_concurrency_run_ids() == set()
