"""The shipped embedded instance config: where it goes, what it limits, and that concurrent
agency drops, each in its own process, never fail on a DuckDB lock."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time

import dagster as dg
import duckdb
import pytest

from hub_assets.defs.resources import WRITER_POOL
from hub_assets.runtime.instance import EMBEDDED_INSTANCE_CONFIG, ensure_dagster_home
from hub_assets.settings import PROJECT_ROOT
from hub_assets.sources.declaration import agency


def test_ensure_dagster_home_installs_the_shipped_config_once(tmp_path):
    home = ensure_dagster_home(tmp_path / "data")

    assert home == (tmp_path / "data" / ".dagster").resolve()
    assert (home / "dagster.yaml").read_text() == EMBEDDED_INSTANCE_CONFIG.read_text()
    # An operator's edits survive a second call.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert ensure_dagster_home(tmp_path / "data") == home
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_shipped_config_limits_the_writer_pool_and_queues_runs(tmp_path, open_shipped_instance):
    with open_shipped_instance(ensure_dagster_home(tmp_path)) as instance:
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.pool_config.pool_granularity.value == "op"
        queue = concurrency.run_queue_config
        assert queue.max_concurrent_runs == 3
        assert {limit["key"] for limit in queue.tag_concurrency_limits} == {
            "dagster/schedule_name",
            "hub/agency",
            "hub/writes",
        }
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled
        assert instance.event_log_storage.supports_global_concurrency_limits


def test_every_duckdb_writer_in_the_hub_runs_in_the_writer_pool():
    """Ingest, linkage, spine, dbt and public assets all write a DuckDB file."""
    from hub_assets.definitions import defs

    graph = defs().resolve_asset_graph()
    # Every executable asset writes a DuckDB file (the public release writes the findings page too).
    writers = [a for a in graph.assets_defs if a.is_executable and a.keys]
    assert sum(len(a.keys) for a in writers) > 20, "the hub definitions look incomplete"
    outside = sorted({a.node_def.name for a in writers if a.op.pool != WRITER_POOL})
    assert outside == []


# One run worker per agency drop, as separate OS processes against one instance: the pool
# (a slot table in the instance's storage) is the only thing that keeps their writes apart.
# Each waits for a "go" file after importing, so all runs start together and contend.
WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import dagster as dg
    from hub_assets.defs.resources import hub_resource
    from hub_assets.defs.sources.assets import build_ingest_asset
    from hub_assets.defs.sources.checks import build_intake_checks
    from hub_assets.sources.declaration import agency

    name, partition, go = sys.argv[1:4]
    source = agency(name)
    defs = [build_ingest_asset(source), build_intake_checks(source)]
    with dg.DagsterInstance.get() as instance:
        while not Path(go).exists():
            time.sleep(0.02)
        result = dg.materialize(defs, instance=instance, partition_key=partition,
                                resources={"hub": hub_resource()}, raise_on_error=False,
                                tags={"hub/agency": name})
    print(result.run_id)
    sys.exit(0 if result.success else 1)
""")

CONCURRENT_AGENCIES = ("rec_parks", "youthworks", "summer_funding", "family_league")


def _drop_file_name(agency_name: str) -> str:
    return agency(agency_name).file_pattern.replace("*", "2024_07")


def _writer_windows(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, float, str]]:
    starts, ends = {}, {}
    for record in instance.get_records_for_run(
        run_id,
        of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE},
    ).records:
        entry = record.event_log_entry
        target = starts if entry.dagster_event_type == dg.DagsterEventType.STEP_START else ends
        target[entry.step_key] = entry.timestamp
    return [(starts[k], ends[k], f"{run_id[:8]}:{k}") for k in starts if k in ends]


@pytest.mark.slow  # four worker processes on two cores: ~30 s idle, minutes under load
def test_concurrent_drops_never_fail_on_a_lock(hub_data_dir, write_drop, tmp_path, open_shipped_instance):
    from hub_assets.defs.resources import hub_resource
    from hub_assets.runtime.register import register_new_drops

    home = ensure_dagster_home(hub_data_dir)
    for name in CONCURRENT_AGENCIES:
        write_drop(name, _drop_file_name(name), n=40)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
    with open_shipped_instance(home) as instance:
        registered = register_new_drops(instance, hub_resource())
    assert set(registered) == set(CONCURRENT_AGENCIES)

    worker, go = tmp_path / "worker.py", tmp_path / "go"
    worker.write_text(WORKER)
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(worker), name, _drop_file_name(name), str(go)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in CONCURRENT_AGENCIES
    }
    time.sleep(1)  # let every worker import; they wait for `go` anyway
    go.touch()
    outputs = {name: p.communicate(timeout=240) for name, p in procs.items()}

    failed = {n: err[-2000:] for n, (out, err) in outputs.items() if procs[n].returncode != 0}
    assert failed == {}, f"runs failed: {failed}"
    assert not any("Could not set lock" in err for _, err in outputs.values())

    run_ids = [out.strip().splitlines()[-1] for out, _ in outputs.values()]
    with open_shipped_instance(home) as instance:
        assert all(instance.get_run_by_id(r).status == dg.DagsterRunStatus.SUCCESS for r in run_ids)
        # The pool serialised the writers: no two writer steps of different runs overlapped ...
        windows = [w for r in run_ids for w in _writer_windows(instance, r)]
        assert len(windows) == 2 * len(CONCURRENT_AGENCIES)  # ingest + intake checks per run
        for (s1, e1, a), (s2, e2, b) in itertools.combinations(sorted(windows), 2):
            assert e1 <= s2 or e2 <= s1, f"{a} and {b} wrote at the same time"
        # ... and it really was contended: some step waited for the duckdb_writer slot.
        blocked = [
            r
            for r in run_ids
            for rec in instance.get_records_for_run(r, of_type=dg.DagsterEventType.ENGINE_EVENT).records
            if f"blocked by limit for pool {WRITER_POOL}" in (rec.event_log_entry.message or "")
        ]
        assert blocked, "no step ever waited for the writer slot: the test did not contend"
        assert instance.event_log_storage.get_concurrency_info(WRITER_POOL).slot_count == 1

    with duckdb.connect(str(hub_data_dir / "warehouse.duckdb"), read_only=True) as con:
        for name in CONCURRENT_AGENCIES:
            assert con.execute(f"select count(*) from raw.{name}").fetchone()[0] == 40


def test_a_read_only_attach_waits_for_another_process_writing_the_store(tmp_path):
    """A check that attaches the warehouse while another process writes it waits, as an open does,
    instead of failing on "Could not set lock"."""
    from hub_assets.defs.resources import attach_read_only

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table t as select 1 as n")
    writer = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(warehouse)!r})\n"
        "con.execute('insert into t values (2)')\n"
        "print('holding', flush=True)\n"
        "time.sleep(3)\n"
        "con.close()\n")], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "holding"
    with duckdb.connect(str(tmp_path / "identity.duckdb")) as con:
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            con.execute(f"attach '{warehouse}' as direct (read_only)")
        attach_read_only(con, warehouse, "wh")
        assert con.execute("select count(*) from wh.t").fetchone()[0] == 2
    assert writer.wait(timeout=30) == 0
