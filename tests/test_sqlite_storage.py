"""The embedded instance's event log (``HubSqliteStorage``): the shipped config selects it, runs
and their asset events round-trip through it, other processes read what it wrote, and the
engines it keeps stay bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import dagster as dg

from hub_assets.runtime import sqlite_storage
from hub_assets.runtime.instance import ensure_dagster_home
from hub_assets.settings import PROJECT_ROOT


@dg.multi_asset(specs=[dg.AssetSpec(f"step_{i}") for i in range(20)],
                check_specs=[dg.AssetCheckSpec("ok", asset=f"step_{i}") for i in range(20)])
def twenty_assets():
    for i in range(20):
        yield dg.MaterializeResult(asset_key=f"step_{i}", metadata={"i": i},
                                   check_results=[dg.AssetCheckResult(asset_key=f"step_{i}", check_name="ok",
                                                                      passed=i != 7)])


def test_shipped_config_stores_events_in_the_usual_sqlite_folders(tmp_path, open_shipped_instance):
    home = ensure_dagster_home(tmp_path)
    with open_shipped_instance(home) as instance:
        assert type(instance.event_log_storage) is sqlite_storage.HubSqliteEventLogStorage
        result = dg.materialize([twenty_assets], instance=instance)
        assert result.success
        latest = instance.get_latest_materialization_event(dg.AssetKey("step_13"))
        assert latest.asset_materialization.metadata["i"].value == 13
        failed = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("step_7"), "ok")])
        assert failed[dg.AssetCheckKey(dg.AssetKey("step_7"), "ok")].status.value == "FAILED"
    # Dagster's own folder layout, so an instance made before this storage reads the same files.
    assert (home / "history" / "runs.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()
    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()

    # Another process with the stock SQLite storage reads every event this one wrote.
    reader = textwrap.dedent(f"""
        import dagster as dg
        from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
        with dg.DagsterInstance.from_config({str(home)!r}) as instance:
            pass
        storage = DagsterSqliteStorage.from_local({str(home)!r})
        print(len(storage.event_log_storage.get_logs_for_run({result.run_id!r})))
    """)
    out = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, cwd=PROJECT_ROOT,
                         env={**os.environ, "DAGSTER_HOME": str(home)}, check=True).stdout
    with open_shipped_instance(home) as instance:
        assert int(out.strip().splitlines()[-1]) == len(instance.all_logs(result.run_id)) > 60


def test_engines_are_reused_and_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_storage, "KEPT_ENGINES", 3)
    storage = sqlite_storage.HubSqliteEventLogStorage(str(tmp_path))
    with storage.index_connection():
        pass
    first = storage._engines["index"]
    with storage.index_connection():
        pass
    assert storage._engines["index"] is first  # reused, with its statement cache
    with storage.index_connection() as conn:  # WAL, committing without a disk sync (NORMAL = 1)
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    for run in ("a", "b", "c"):
        with storage.run_connection(run):
            pass
    assert list(storage._engines) == ["a", "b", "c"]  # the least recently used was dropped
    storage.dispose()
    assert not storage._engines
