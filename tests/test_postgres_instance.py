"""The production instance config (deploy/postgres/dagster.yaml) works against a real PostgreSQL.

A throwaway server is started on loopback in a temp dir (initdb + pg_ctl from the Debian
``postgresql`` package), the shipped config is loaded with its env vars pointing at it, an asset
is materialised, and the run and its materialisation are read back through a fresh instance.
Missing PostgreSQL binaries fail the test: CI installs them with scripts/ci-system-deps.sh.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from local_servers import free_port

from hub_assets.defs.resources import WRITER_POOL
from hub_assets.runtime.instance import POSTGRES_INSTANCE_CONFIG

pytestmark = pytest.mark.postgres

PG_USER = "hub_dagster"
PG_PASSWORD = "local-test-only"
PG_DB = "dagster"


def _pg_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin/. "
            "Install them with scripts/ci-system-deps.sh (Debian package `postgresql`)."
        )
    return Path(found[-1]).parent


def _as_server_user(args: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package creates the `postgres` user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def postgres_server() -> Iterator[int]:
    bin_dir = _pg_bin_dir()
    work = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    pgdata, log, pwfile = work / "pgdata", work / "server.log", work / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    subprocess.run(
        _as_server_user([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", PG_USER,
                         f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    start = [str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "-t", "60",
             "-o", f"-p {port} -k {work} -c listen_addresses=127.0.0.1", "start"]
    started = subprocess.run(_as_server_user(start), capture_output=True, text=True)
    try:
        assert started.returncode == 0, f"pg_ctl start failed: {started.stderr}\n{log.read_text()}"
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER,
                               password=PG_PASSWORD, dbname="postgres")
        con.autocommit = True
        con.cursor().execute(f"CREATE DATABASE {PG_DB}")
        con.close()
        yield port
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(pgdata),
                                        "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


@dg.asset(key=["ops", "postgres_smoke"], pool=WRITER_POOL)
def postgres_smoke() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


def test_shipped_postgres_config_records_and_reads_back_a_run(postgres_server, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(POSTGRES_INSTANCE_CONFIG, home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(postgres_server),
        "DAGSTER_PG_USERNAME": PG_USER,
        "DAGSTER_PG_PASSWORD": PG_PASSWORD,
        "DAGSTER_PG_DB": PG_DB,
        "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "compute_logs"),
    }.items():
        monkeypatch.setenv(name, value)

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        instance.upgrade()  # migrations on an already-current schema must be a no-op
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 6
        # The same run-tag limits as the embedded default: one run per schedule, per agency, and
        # one run at a time writing the warehouse.
        assert {limit["key"] for limit in queue.tag_concurrency_limits} == {
            "dagster/schedule_name",
            "hub/agency",
            "hub/writes",
        }
        assert instance.global_op_concurrency_default_limit == 1

        result = dg.materialize([postgres_smoke], instance=instance)
        assert result.success
        run_id = result.run_id
        # The writer pool got the shipped limit when its first step claimed a slot.
        assert instance.event_log_storage.get_concurrency_info(WRITER_POOL).slot_count == 1

    # A separate instance (as the webserver or daemon would be) sees the same record.
    with dg.DagsterInstance.get() as reader:
        run = reader.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        event = reader.get_latest_materialization_event(dg.AssetKey(["ops", "postgres_smoke"]))
        assert event is not None and event.run_id == run_id
        assert event.asset_materialization.metadata["rows"].value == 3
