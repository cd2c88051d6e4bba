"""``kill -9`` during ``hub run``'s ingest, then a rerun: the result equals a clean run
(``built_hub``); and a rejected drop is listed by every run until it is withdrawn."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import duckdb
import polars as pl
import pytest

from hub_assets.settings import FIXTURE_CITY_DIR, HubPaths
from hub_assets.sources.declaration import load_agencies
from hub_assets.sources.landing import received_drop_ids
from hub_assets.sources.outcomes import read_outcome

from .conftest import E2E_SECRET_KEY, run_hub_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]


def hub_env(data_dir):
    return dict(os.environ, HUB_DATA_DIR=str(data_dir), HUB_SECRET_KEY=E2E_SECRET_KEY,
                DAGSTER_HOME=str(data_dir / ".dagster"), PYTHONUNBUFFERED="1")


def kill_during_ingest(data_dir, nth_agency: int) -> str:
    """Start ``hub run`` and kill -9 it while it ingests its ``nth_agency``-th agency."""
    proc = subprocess.Popen([sys.executable, "-m", "hub_assets.cli", "run"], env=hub_env(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    seen: list[bytes] = []
    reader = threading.Thread(target=lambda: [seen.append(b) for b in iter(lambda: proc.stdout.read(1), b"")])
    reader.start()
    deadline = time.monotonic() + 600
    while b"".join(seen).count(b"] ingest ") < nth_agency:
        assert proc.poll() is None and time.monotonic() < deadline, b"".join(seen).decode()[-3000:]
        time.sleep(0.02)
    time.sleep(0.3)  # into the agency's load
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()
    return b"".join(seen).decode()


def intake_state(paths: HubPaths) -> dict[str, pl.DataFrame]:
    out = {}
    with duckdb.connect(str(paths.identity_db), read_only=True) as con:
        out["drops"] = con.sql("select agency, drop_id, sha256, status, rows_received, rows_accepted, "
                               "rows_quarantined from drops").pl()
        out["records"] = con.sql("select * exclude (loaded_at) from records").pl()
        out["quarantine"] = con.sql("select * from quarantine").pl()
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        for source in load_agencies():
            # loaded_at says when a row was loaded: the one column a later load changes.
            out[f"raw.{source.name}"] = con.sql(f"select * exclude (loaded_at) from raw.{source.name}").pl()
        out["persons"] = con.sql("select count(distinct person_key) n from spine.person_spine").pl()
    return {k: v.sort(pl.all()) for k, v in out.items()}


def public_files(paths: HubPaths) -> dict[str, list[str]]:
    """Every CSV of the current public release, its lines in order (release folders are named by time)."""
    current = (paths.public / "current").resolve()
    return {str(p.relative_to(current)): p.read_text().splitlines() for p in current.rglob("*.csv")}


def test_a_kill_during_ingest_then_a_rerun_equals_a_clean_run(built_hub, tmp_path):
    assert built_hub.returncode == 0, built_hub.output[-3000:]
    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURE_CITY_DIR / "landing", data_dir / "landing")
    paths = HubPaths(data_dir)

    output = kill_during_ingest(data_dir, nth_agency=3)

    # The kill left the hub half-loaded: some agencies loaded, some drops received but not loaded.
    outcomes = {(s.name, d): read_outcome(paths, s.name, d) for s in load_agencies()
                for d in received_drop_ids(paths, s.name)}
    assert any(o and o["outcome"] == "accepted" for o in outcomes.values()), output[-2000:]
    assert any(o is None for o in outcomes.values()), output[-2000:]

    rerun = run_hub_cli(data_dir)  # hub run's start-up releases the dead run's writer slot

    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "received earlier and not loaded (loading again)" in rerun.stdout
    clean, recovered = intake_state(built_hub.paths), intake_state(paths)
    for name, frame in clean.items():
        assert recovered[name].equals(frame), name
    assert public_files(paths) == public_files(built_hub.paths)


def test_a_rejected_drop_fails_every_run_until_it_is_withdrawn(built_hub, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(built_hub.paths.root, data_dir, ignore=shutil.ignore_patterns("*.wal"))
    header = (FIXTURE_CITY_DIR / "landing" / "hmis").glob("*.csv").__next__().read_text().splitlines()[0]
    (data_dir / "landing" / "hmis" / "hmis_enrollments_2099_01.csv").write_text(header + "\n")

    for _ in range(2):  # the run that rejects it, and the next one
        run = run_hub_cli(data_dir)
        assert run.returncode == 1
        assert ("NOT LOADED: agency hmis: file hmis_enrollments_2099_01.csv (drop hmis_enrollments_2099_01.csv) "
                "rejected: the file has a header but no rows") in run.stderr
        assert "hub drops withdraw" in run.stderr

    withdrawn = subprocess.run([sys.executable, "-m", "hub_assets.cli", "drops", "withdraw", "hmis",
                                "hmis_enrollments_2099_01.csv", "--reason", "sent by mistake"],
                               env=hub_env(data_dir), capture_output=True, text=True)
    assert withdrawn.returncode == 0, withdrawn.stderr
    listed = subprocess.run([sys.executable, "-m", "hub_assets.cli", "drops", "list"], env=hub_env(data_dir),
                            capture_output=True, text=True)
    assert listed.stdout.strip().endswith("0 drop(s) not loaded")
