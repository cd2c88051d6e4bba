"""A run whose process is killed (``kill -9``) is found dead, marked failed and its
``duckdb_writer`` slot freed, by ``hub run``'s start-up and by Dagster's run monitoring through
``HubRunLauncher``; the next writer step then runs instead of waiting forever."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from hub_assets.defs.resources import WRITER_POOL
from hub_assets.runtime.dead_runs import release_dead_runs
from hub_assets.runtime.instance import ensure_dagster_home
from hub_assets.runtime.launcher import HubRunLauncher

# A writer step that holds the pool's one slot until it is killed, run in process by a child
# process tagged as `hub run` tags its runs.
HOLDER = textwrap.dedent("""
    import os, time, dagster as dg
    from hub_assets.runtime.workers import worker_tags

    @dg.asset(pool="duckdb_writer")
    def holds_the_writer_slot():
        print("claimed", flush=True)
        time.sleep(600)

    with dg.DagsterInstance.get() as instance:
        # Untagged, the worker is known only from the pid Dagster logs itself (daemon runs).
        tags = worker_tags() if os.environ.get("TAG_WORKER") == "1" else {}
        dg.materialize([holds_the_writer_slot], instance=instance, tags=tags)
""")


@dg.asset(pool=WRITER_POOL)
def next_writer() -> None:
    return None


def _start_holder(home: Path, tmp_path: Path, tagged: bool = True) -> subprocess.Popen:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    env = dict(os.environ, DAGSTER_HOME=str(home), TAG_WORKER="1" if tagged else "0")
    return subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)


def _kill_while_holding_the_slot(instance: dg.DagsterInstance, home: Path, tmp_path: Path,
                                 tagged: bool = True) -> str:
    holder = _start_holder(home, tmp_path, tagged)
    assert holder.stdout.readline().strip() == "claimed"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.STARTED  # the dead run says it is still running
    assert run.run_id in instance.event_log_storage.get_concurrency_run_ids()
    return run.run_id


@pytest.fixture
def shipped_instance(tmp_path, open_shipped_instance):
    home = ensure_dagster_home(tmp_path / "data")
    with open_shipped_instance(home) as instance:
        yield home, instance


def test_hub_run_start_up_fails_a_killed_run_and_frees_its_writer_slot(shipped_instance, tmp_path):
    home, instance = shipped_instance
    dead = _kill_while_holding_the_slot(instance, home, tmp_path)

    (released,) = release_dead_runs(instance)

    assert released.run_id == dead and released.slots_freed
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert dead not in instance.event_log_storage.get_concurrency_run_ids()
    # The writer pool is usable again: the next writer step claims the slot and finishes.
    assert dg.materialize([next_writer], instance=instance).success
    # A live run is never touched.
    assert release_dead_runs(instance) == []


@pytest.mark.parametrize("tagged", [True, False], ids=["hub-run-tags", "dagster-pid-event"])
def test_run_monitoring_with_the_shipped_launcher_fails_a_killed_run(shipped_instance, tmp_path, tagged):
    home, instance = shipped_instance
    assert isinstance(instance.run_launcher, HubRunLauncher)
    assert instance.run_launcher.supports_check_run_worker_health
    dead = _kill_while_holding_the_slot(instance, home, tmp_path, tagged)

    # One pass of Dagster's run monitoring over the STARTED run, as the daemon makes it.
    record = instance.get_run_record_by_id(dead)
    monitor_started_run(instance, None, record, logging.getLogger("run_monitoring"))

    run = instance.get_run_by_id(dead)
    assert run.status == dg.DagsterRunStatus.FAILURE
    failure = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
    assert "is gone" in failure.message


def test_a_live_run_is_left_alone(shipped_instance, tmp_path):
    home, instance = shipped_instance
    holder = _start_holder(home, tmp_path)
    try:
        assert holder.stdout.readline().strip() == "claimed"
        (run,) = instance.get_runs()
        assert release_dead_runs(instance) == []
        health = instance.run_launcher.check_run_worker_health(run)
        assert health.status.value == "RUNNING"
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
