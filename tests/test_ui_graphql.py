"""What the platform team sees in the Dagster UI, asked of a real webserver's GraphQL API.

The webserver is started from the repo root on loopback with the shipped instance config in a
temp DAGSTER_HOME and an empty temp data dir, exactly as ``dg dev`` would serve the graph:
every agency source, linkage, the spine, every use case and the public zone in their groups,
their checks attached, and the sensors and schedules running by default.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from local_servers import free_port, stop_process_group

from hub_assets.governance.agreements import load_governance
from hub_assets.runtime.instance import ensure_dagster_home
from hub_assets.settings import PROJECT_ROOT
from hub_assets.sources.declaration import load_agencies

pytestmark = pytest.mark.xdist_group("webserver")

# Every use case governance.yaml has an agreement for: each must be built and published.
USE_CASES = tuple(sorted(load_governance().agreements))
STARTUP_TIMEOUT_S = 240  # loading the code location parses dbt; slower on a busy 2-core box

ASSETS_QUERY = """
{ assetNodes { assetKey { path } groupName isExecutable
    dependencyKeys { path } tags { key value }
    assetChecksOrError { ... on AssetChecks { checks { name } } } } }
"""
INSTIGATORS_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name
    locationOrLoadError {
      ... on RepositoryLocation { repositories { name
          sensors { name sensorState { status } }
          schedules { name cronSchedule scheduleState { status } } } }
      ... on PythonError { message } } } } } }
"""
LOAD_STATUS_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body.get("errors")
    return body["data"]


def _wait_until_loaded(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster-webserver exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            entries = _graphql(url, LOAD_STATUS_QUERY)["workspaceOrError"]["locationEntries"]
        except OSError:
            time.sleep(1)
            continue
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e["locationOrLoadError"] for e in entries
                      if e["locationOrLoadError"]["__typename"] == "PythonError"]
            assert not errors, f"code location failed to load: {errors}"
            return
        time.sleep(1)
    pytest.fail(f"webserver not ready after {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def graphql_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("ui") / "data"
    env = {**os.environ, "HUB_DATA_DIR": str(data),
           "DAGSTER_HOME": str(ensure_dagster_home(data)),
           "HUB_SECRET_KEY": "ui-test-secret-not-for-production"}
    port = free_port()
    log = data / "webserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(Path(os.sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1",
             "-p", str(port), "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group, so its code server goes with it
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        _wait_until_loaded(url, server, log)
        yield url
    finally:
        stop_process_group(server)


@pytest.fixture(scope="module")
def asset_nodes(graphql_url) -> dict[str, dict]:
    nodes = _graphql(graphql_url, ASSETS_QUERY)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in nodes}


@pytest.fixture(scope="module")
def instigators(graphql_url) -> tuple[dict[str, str], dict[str, str]]:
    entries = _graphql(graphql_url, INSTIGATORS_QUERY)["workspaceOrError"]["locationEntries"]
    sensors, schedules = {}, {}
    for entry in entries:
        for repo in entry["locationOrLoadError"].get("repositories", []):
            sensors.update({s["name"]: s["sensorState"]["status"] for s in repo["sensors"]})
            schedules.update({s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]})
    return sensors, schedules


def _checks(node: dict) -> list[str]:
    return [c["name"] for c in (node.get("assetChecksOrError") or {}).get("checks", [])]


def _group(asset_nodes: dict, group: str) -> list[str]:
    return sorted(k for k, n in asset_nodes.items() if n["groupName"] == group)


def test_every_agency_source_is_in_its_group_with_checks(asset_nodes):
    problems = []
    for source in load_agencies():
        for key, group in ((f"raw/{source.name}", "agency_sources"),
                           (f"identity/{source.name}", "identity")):
            node = asset_nodes.get(key)
            if node is None:
                problems.append(f"{key} missing")
            elif node["groupName"] != group:
                problems.append(f"{key} in group {node['groupName']}, not {group}")
            elif not _checks(node):
                problems.append(f"{key} has no checks")
    assert problems == []


def test_linkage_and_spine_are_in_their_groups(asset_nodes):
    linkage = _group(asset_nodes, "linkage")
    spine = _group(asset_nodes, "spine")
    assert linkage and all(k.startswith("linkage/") for k in linkage)
    assert "spine/person_spine" in spine and "spine/person_crosswalk" in spine
    assert any(_checks(asset_nodes[k]) for k in linkage + spine), "linkage/spine carry no checks"


@pytest.mark.parametrize("use_case", USE_CASES)
def test_every_use_case_is_a_group_of_marts_with_checks(asset_nodes, use_case):
    marts = _group(asset_nodes, use_case)
    assert marts, f"no assets in group {use_case}"
    assert any(_checks(asset_nodes[k]) for k in marts), f"no checks on {use_case} marts"


def test_public_zone_has_a_checked_asset_per_use_case_and_the_findings_page(asset_nodes):
    public = _group(asset_nodes, "public")
    assert "public/findings_report" in public
    released = [k for k in public if k != "public/findings_report"]
    published = {t["value"] for k in released for t in asset_nodes[k]["tags"] if t["key"] == "use_case"}
    for use_case in USE_CASES:
        assert use_case in published, f"nothing public for {use_case}"
    assert [k for k in released if not _checks(asset_nodes[k])] == []
    # The findings page is built after every other public asset.
    deps = {"/".join(d["path"]) for d in asset_nodes["public/findings_report"]["dependencyKeys"]}
    assert set(released) <= deps


def test_sensors_and_schedules_run_by_default(instigators):
    sensors, schedules = instigators
    for source in load_agencies():
        drop_sensors = [n for n in sensors if n.startswith(source.name)]
        assert drop_sensors, f"no drop sensor for {source.name}"
        assert all(sensors[n] == "RUNNING" for n in drop_sensors), drop_sensors
    assert sensors.get("hub_run_failure_alert") == "RUNNING"
    assert any("automation" in n and s == "RUNNING" for n, s in sensors.items()), sensors
    relink = [n for n in schedules if "relink" in n or "re_link" in n]
    retrain = [n for n in schedules if "retrain" in n]
    assert relink and retrain, schedules
    assert all(schedules[n] == "RUNNING" for n in relink + retrain)
