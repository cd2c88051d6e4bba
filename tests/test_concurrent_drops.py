"""Four, then eight agencies' drops landing at once, under the real daemon, settle with no failed
run: every drop loaded exactly once, every new record linked, and the release current.

A small city (the newest drop of every agency) is built with ``hub run``; then ``dagster-daemon``
runs with the shipped instance (drop sensors, the automation sensor, the run queue, run
monitoring, the governance sensors) and the second-newest drop of 4 agencies, later of the other
8, is copied into landing at the same moment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import TEST_SECRET_KEY

from hub_assets.settings import FIXTURE_CITY_DIR, HubPaths
from hub_assets.sources.outcomes import read_outcome
from hub_assets.sources.tokens import drop_token

ROOT = Path(__file__).resolve().parent.parent
FINDINGS = dg.AssetKey(["public", "findings_report"])
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
QUIET_SECONDS = 30  # nothing queued or running for this long: the daemon has nothing more to do
WAVES = (("child_welfare", "hmis", "juvenile_services", "summer_funding"),
         ("city_schools", "early_childhood", "family_league", "public_housing", "rec_parks",
          "vital_records", "wage_records", "youthworks"))


def drops_of(agency: str) -> list[Path]:
    return sorted((FIXTURE_CITY_DIR / "landing" / agency).iterdir())


@pytest.fixture(scope="module")
def daemon_hub(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("concurrent") / "data"
    for folder in sorted((FIXTURE_CITY_DIR / "landing").iterdir()):
        (data / "landing" / folder.name).mkdir(parents=True)
        shutil.copy2(drops_of(folder.name)[-1], data / "landing" / folder.name)
    env = dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY=TEST_SECRET_KEY,
               DAGSTER_HOME=str(data / ".dagster"))
    built = subprocess.run([sys.executable, "-m", "hub_assets.cli", "run"], env=env, capture_output=True,
                           text=True, timeout=1800)
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    workspace = data.parent / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_module:\n      module_name: hub_assets.definitions\n"
                         f"      working_directory: {ROOT}\n")
    log = (data.parent / "daemon.log").open("w")
    daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(workspace)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    old = {k: os.environ.get(k) for k in env if env[k] != os.environ.get(k)}
    os.environ.update(env)
    try:
        with dg.DagsterInstance.get() as instance:
            wait(lambda: every_sensor_ticked(instance), 600, "every sensor's first tick", daemon, log.name)
            yield HubPaths(data), instance, daemon, log.name
    finally:
        os.killpg(daemon.pid, 15)
        daemon.wait(timeout=120)
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def wait(predicate, timeout: float, what: str, daemon: subprocess.Popen, log: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert daemon.poll() is None, f"the daemon exited: {Path(log).read_text()[-3000:]}"
        value = predicate()
        if value:
            return value
        time.sleep(2)
    pytest.fail(f"gave up waiting for {what} after {timeout:.0f} s; daemon log:\n{Path(log).read_text()[-3000:]}")


def every_sensor_ticked(instance: dg.DagsterInstance) -> bool:
    from dagster._core.definitions.run_request import InstigatorType

    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    return bool(states) and all(instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=1) for s in states)


def settled(instance: dg.DagsterInstance, paths: HubPaths, agencies, since: datetime) -> bool:
    """Every agency's held-back drop has an outcome, the findings page was materialised after
    the last ingest, and nothing has been queued or running for QUIET_SECONDS."""
    if any(read_outcome(paths, a, drops_of(a)[-2].name) is None for a in agencies):
        return False
    if instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT), limit=1):
        return False
    runs = instance.get_run_records(dg.RunsFilter(created_after=since))
    last_end = max(((r.end_time or 0) for r in runs), default=0)
    findings = instance.get_latest_materialization_event(FINDINGS)
    if findings is None or findings.timestamp < max(
        (r.end_time or 0 for r in runs if is_ingest(r.dagster_run)), default=0
    ):
        return False
    return time.time() - last_end > QUIET_SECONDS


def is_ingest(run: dg.DagsterRun) -> bool:
    return any(k.path[0] == "raw" for k in (run.asset_selection or ()))


@pytest.mark.slow
@pytest.mark.xdist_group("hub_build")
@pytest.mark.parametrize("wave", WAVES, ids=["4_agencies", "8_agencies"])
def test_concurrent_drops_settle_with_no_failed_run(daemon_hub, wave):
    paths, instance, daemon, log = daemon_hub
    release_before = (paths.public / "current").resolve().name
    since = datetime.now(UTC)
    for agency in wave:  # all at once (small files: copied within a second)
        shutil.copy2(drops_of(agency)[-2], paths.landing / agency)
    wait(lambda: settled(instance, paths, wave, since), 1800, f"{len(wave)} drops to settle", daemon, log)

    runs = instance.get_run_records(dg.RunsFilter(created_after=since))
    failed = [
        (r.dagster_run.job_name, r.dagster_run.run_id)
        for r in runs
        if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS
    ]
    assert failed == [], f"failed runs: {failed}"

    from hub_assets.defs.resources import HubResource

    key = HubResource(data_dir=str(paths.root), secret_key=TEST_SECRET_KEY).key()
    for agency in wave:
        drop_id = drops_of(agency)[-2].name
        assert read_outcome(paths, agency, drop_id)["outcome"] == "accepted", agency
        ingests = [r for r in runs if is_ingest(r.dagster_run) and r.dagster_run.tags.get("hub/drop_id") == drop_id]
        assert len(ingests) == 1, f"{agency}: {len(ingests)} ingest runs for {drop_id}"
        with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
            rows, distinct, unlinked = con.execute(
                f"select count(*), count(distinct r.row_token), count(*) filter (where x.person_key is null) "
                f"from raw.{agency} r left join spine.person_crosswalk x using (record_token) "
                f"where r.drop_token = ?",
                [drop_token(key, agency, drop_id)],
            ).fetchone()
        assert rows > 0 and distinct == rows, f"{agency}: {rows} rows, {distinct} distinct: loaded once"
        assert unlinked == 0, f"{agency}: {unlinked} records of {drop_id} have no person key"
    # The release is current: a new one, published after the last drop was loaded.
    assert (paths.public / "current").resolve().name != release_before
    last_ingest = max(r.end_time for r in runs if is_ingest(r.dagster_run))
    assert instance.get_latest_materialization_event(FINDINGS).timestamp > last_ingest
    print(
        f"{len(wave)} drops: {len(runs)} runs, settled "
        f"{max(r.end_time for r in runs) - since.timestamp():.0f} s after landing"
    )
