"""Hands-off automation: a drop lands and everything downstream follows.

The fast tests pin down ``AFTER_UPSTREAM`` on a toy graph shaped like the hub's (an unpartitioned
asset downstream of a per-drop dynamic-partitioned one) and check which assets the hub's
automation sensors and schedules cover. The slow test proves the whole chain on a real hub.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import TEST_SECRET_KEY, drop_text

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.disclosure.rounding import round_count
from hub_assets.disclosure.suppression import disclosure_settings
from hub_assets.findings.format import format_value
from hub_assets.settings import FIXTURE_CITY_DIR, HubPaths
from hub_assets.sources.declaration import agency

# evaluate_automation_conditions selects with a beta parameter of its own; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")

DROPS = dg.DynamicPartitionsDefinition(name="toy_drops")


def toy_graph(condition: dg.AutomationCondition, probe=None) -> list[dg.AssetsDefinition]:
    """``toy/ingest`` (one partition per drop) -> ``toy/linkage`` with ``condition``.

    ``probe(partition_key)``, if given, runs inside the ingest step: while that run is in progress.
    """

    @dg.asset(key=["toy", "ingest"], partitions_def=DROPS)
    def ingest(context: dg.AssetExecutionContext) -> None:
        if context.partition_key.startswith("bad"):
            raise ValueError("rejected drop")  # stays a missing partition forever
        if probe:
            probe(context.partition_key)

    @dg.asset(key=["toy", "linkage"], deps=[ingest], automation_condition=condition)
    def linkage() -> None: ...

    return [ingest, linkage]


class Ticks:
    """Successive automation evaluations, carrying the cursor as the daemon does."""

    def __init__(self, assets: list[dg.AssetsDefinition], instance: dg.DagsterInstance):
        self.assets, self.instance, self.cursor = assets, instance, None

    def requested(self) -> int:
        result = dg.evaluate_automation_conditions(defs=self.assets, instance=self.instance,
                                                   cursor=self.cursor)
        self.cursor = result.cursor
        return result.get_num_requested(dg.AssetKey(["toy", "linkage"]))


def land(assets, instance, drop_id: str) -> bool:
    instance.add_dynamic_partitions(DROPS.name, [drop_id])
    return dg.materialize(assets[:1], instance=instance, partition_key=drop_id,
                          raise_on_error=False).success


def materialise_linkage(assets, instance) -> None:
    assert dg.materialize(assets, instance=instance, selection=[dg.AssetKey(["toy", "linkage"])]).success


def test_after_upstream_requests_linkage_once_per_new_drop(instance):
    assets = toy_graph(AFTER_UPSTREAM)
    ticks = Ticks(assets, instance)
    assert ticks.requested() == 0  # the first tick only takes stock
    for drop in ("d1", "d2"):
        assert land(assets, instance, drop)
        assert ticks.requested() == 1
        materialise_linkage(assets, instance)
        assert ticks.requested() == 0, "linkage's own materialisation must not re-trigger it"
        assert ticks.requested() == 0


def test_a_rejected_drop_does_not_block_later_drops(instance):
    blocked = toy_graph(dg.AutomationCondition.eager())  # what AFTER_UPSTREAM is built to avoid
    ours = toy_graph(AFTER_UPSTREAM)
    eager_ticks, our_ticks = Ticks(blocked, instance), Ticks(ours, instance)
    eager_ticks.requested(), our_ticks.requested()
    assert not land(ours, instance, "bad_drop")
    assert land(ours, instance, "good_drop")
    assert eager_ticks.requested() == 0, "plain eager waits forever on the rejected partition"
    assert our_ticks.requested() == 1


def test_linkage_waits_while_an_ingest_run_is_in_progress(instance):
    seen_during_run: list[int] = []
    assets = toy_graph(AFTER_UPSTREAM, probe=lambda key: seen_during_run.append(ticks.requested()))
    ticks = Ticks(assets, instance)
    ticks.requested()
    instance.add_dynamic_partitions(DROPS.name, ["d1"])
    assert dg.materialize(assets[:1], instance=instance, partition_key="d1").success
    # d1 is done, but d2's ingest is running when the next tick comes: linkage must wait for it.
    assert land(assets, instance, "d2")
    assert seen_during_run == [0, 0]  # probed during d1's run and during d2's run
    assert ticks.requested() == 1, "once nothing is in progress, one linkage run covers both drops"
    materialise_linkage(assets, instance)
    assert ticks.requested() == 0



@pytest.fixture
def hub_defs(hub_data_dir) -> dg.Definitions:
    from hub_assets.definitions import defs

    return defs()


def test_everything_downstream_of_ingest_follows_its_upstream_and_one_sensor_evaluates_it(hub_defs):
    from hub_assets.defs.automation.sensors import hub_automation_sensor

    graph = hub_defs.resolve_asset_graph()
    conditioned = {key for key in graph.get_all_asset_keys() if graph.get(key).automation_condition}
    labels = {key: graph.get(key).automation_condition.get_label() for key in conditioned}
    dbt_models = {key for key in conditioned if "dbt" in graph.get(key).kinds}
    assert {labels[key] for key in dbt_models} == {"after_linkage"}, "every use case waits for linkage"
    assert {key for key in conditioned - dbt_models if labels[key] != "after_upstream"} == set()
    expected = {"linkage/person_keys", "spine/person_spine", "marts/summer_engagement_overview",
                "public/summer_engagement_overview", "public/findings_report", "staging/stg_hmis__enrollments"}
    assert {dg.AssetKey.from_user_string(k) for k in expected} <= conditioned
    assert hub_automation_sensor.asset_selection.resolve(graph) >= conditioned
    assert hub_defs.resolve_sensor_def(hub_automation_sensor.name).default_status == dg.DefaultSensorStatus.RUNNING


def test_weekly_public_release_and_nightly_relink_run_by_default(hub_defs):
    graph = hub_defs.resolve_asset_graph()
    release = hub_defs.resolve_schedule_def("public_release_schedule")
    relink = hub_defs.resolve_schedule_def("nightly_full_relink")
    assert release.default_status == relink.default_status == dg.DefaultScheduleStatus.RUNNING
    released = hub_defs.resolve_job_def(release.job_name).asset_layer.selected_asset_keys
    public = {key for key in graph.get_all_asset_keys() if key.path[0] == "public"}
    assert dg.AssetKey(["public", "findings_report"]) in public and released == public


# ---- the whole chain on a real hub -------------------------------------------------------------

AGENCY = "summer_funding"
NEW_DROP = "sfc_roster_2026_z.csv"
NEW_YOUTH_ID = "990000001"
# Nobody in the fixture city is called this: the new youth must become a new person.
NEW_IDENTITY = {"youth_name": "Zebediah Quillfeather", "birthdate": "14/03/2011", "gender": "Boy",
                "address": "712 E Pratt St", "zip": "21202", "ethnicity": "Black"}
MAX_ROUNDS = 6


def latest_drops(landing: Path) -> list[Path]:
    """The newest file of every agency: a small city that still has every source and summer 2026."""
    return [sorted(folder.iterdir())[-1] for folder in sorted(landing.iterdir()) if folder.is_dir()]


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub built by ``hub run`` (in a subprocess, as the Quick start runs it) from the newest
    drop of every agency; its Dagster instance lives in ``<data>/.dagster``."""
    data = tmp_path_factory.mktemp("automation") / "data"
    for drop in latest_drops(FIXTURE_CITY_DIR / "landing"):
        (data / "landing" / drop.parent.name).mkdir(parents=True)
        shutil.copy2(drop, data / "landing" / drop.parent.name / drop.name)
    env = dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY=TEST_SECRET_KEY,
               DAGSTER_HOME=str(data / ".dagster"))
    done = subprocess.run([sys.executable, "-m", "hub_assets.cli", "run"], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return data


def write_new_person_drop(landing: Path) -> None:
    """A one-row roster from a new grantee file: a real 2026 row's content, a brand-new identity."""
    source = agency(AGENCY)
    template = sorted((FIXTURE_CITY_DIR / "landing" / AGENCY).glob("sfc_roster_2026_*.csv"))[0]
    with template.open(encoding=source.encoding, newline="") as f:
        row = next(csv.DictReader(f, delimiter=source.delimiter))
    row.update(NEW_IDENTITY, youth_id=NEW_YOUTH_ID)
    assert list(row) == source.expected_columns
    (landing / AGENCY / NEW_DROP).write_bytes(drop_text(source, [row]).encode(source.encoding))


class AutomationSensorTicks:
    """One automation sensor's ticks, evaluated over exactly its target as the daemon does."""

    def __init__(self, sensor: dg.AutomationConditionSensorDefinition, defs: dg.Definitions,
                 instance: dg.DagsterInstance):
        self.sensor, self.defs, self.instance, self.cursor = sensor, defs, instance, None

    def requested(self) -> list[dg.AssetKey]:
        result = dg.evaluate_automation_conditions(defs=self.defs, instance=self.instance, cursor=self.cursor,
                                                   asset_selection=self.sensor.asset_selection)
        self.cursor = result.cursor
        return sorted(r.key for r in result.results
                      if isinstance(r.key, dg.AssetKey) and result.get_num_requested(r.key))


def execute(defs: dg.Definitions, instance: dg.DagsterInstance, keys: list[dg.AssetKey],
            partition_key: str | None = None, tags: dict | None = None) -> None:
    """Run what was requested, in process, recorded in the hub's instance (as a launched run would be)."""
    result = defs.resolve_implicit_job_def_def_for_assets(keys).execute_in_process(
        instance=instance, asset_selection=keys, partition_key=partition_key, tags=tags or {},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}}, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure][:3]


def summer_participants(con: duckdb.DuckDBPyConnection, table: str, summer: int) -> int:
    return con.execute(f"select participants from {table} where summer_year = ?", [summer]).fetchone()[0]


@pytest.mark.slow
@pytest.mark.xdist_group("hub_build")
def test_a_new_drop_flows_to_the_spine_and_the_public_counts_by_itself(small_hub: Path, monkeypatch):
    paths = HubPaths(small_hub)
    for name, value in {"HUB_DATA_DIR": str(small_hub), "HUB_SECRET_KEY": TEST_SECRET_KEY,
                        "DAGSTER_HOME": str(small_hub / ".dagster")}.items():
        monkeypatch.setenv(name, value)
    from hub_assets.definitions import defs as load_defs
    from hub_assets.defs.automation.sensors import hub_automation_sensor
    from hub_assets.defs.resources import hub_resource

    defs = load_defs()
    with dg.DagsterInstance.get() as instance:
        ticks = [AutomationSensorTicks(hub_automation_sensor, defs, instance)]
        # The use cases alone, evaluated apart from linkage: they must not follow the drop by
        # themselves, whatever sensor evaluates them.
        use_cases = AutomationSensorTicks(dg.AutomationConditionSensorDefinition(
            "use_cases_only", target=dg.AssetSelection.kind("dbt")), defs, instance)
        assert [t.requested() for t in ticks] == [[]], "a freshly built hub needs nothing"
        assert use_cases.requested() == []
        with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
            before = {t: summer_participants(con, t, 2026)
                      for t in ("marts.summer_engagement_overview", "public.summer_engagement_overview")}
        release_before = (paths.public / "current").resolve().name

        # The drop lands; the agency's sensor notices it and requests one ingest run.
        write_new_person_drop(paths.landing)
        drops_sensor = defs.resolve_sensor_def(f"{AGENCY}_drops")
        sensor_resources = {"hub": hub_resource()}
        sensed = drops_sensor(dg.build_sensor_context(instance=instance, resources=sensor_resources))
        assert [r.partition_key for r in sensed.run_requests] == [NEW_DROP]
        for request in sensed.dynamic_partitions_requests:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        for request in sensed.run_requests:
            execute(defs, instance, list(request.asset_selection), request.partition_key, request.tags)
        again = drops_sensor(dg.build_sensor_context(instance=instance, resources=sensor_resources,
                                                    cursor=sensed.cursor))
        assert isinstance(again, dg.SkipReason) or not again.run_requests, "the drop is loaded once"
        assert use_cases.requested() == [], "no use case is built from records not yet linked"

        # The automation sensor ticks until nothing more is requested, each request run in order.
        launched: list[list[dg.AssetKey]] = []
        for _ in range(MAX_ROUNDS):
            round_requests = [t.requested() for t in ticks]
            if not any(round_requests):
                break
            for keys in filter(None, round_requests):
                launched.append(keys)
                print("automation requested:", [k.to_user_string() for k in keys])
                execute(defs, instance, keys)
        else:
            pytest.fail(f"automation still requesting after {MAX_ROUNDS} rounds: {launched[-2:]}")
        assert [t.requested() for t in ticks] == [[]], "no churn once the hub is up to date"

    ran = Counter(key.to_user_string() for keys in launched for key in keys)
    assert [k for k, n in ran.items() if n > 1] == [], "no asset runs twice for one drop"
    assert {"linkage/person_keys", "spine/person_spine", "marts/summer_engagement_overview",
            "public/summer_engagement_overview", "public/findings_report"} <= set(ran), sorted(ran)
    assert "linkage/model" not in ran, "a drop attaches incrementally; retraining is scheduled"
    assert len(launched) == 1, "one run from linkage to the findings page"
    one_run = {key.to_user_string() for key in launched[0]}
    assert {"linkage/person_keys", "spine/person_spine", "marts/summer_engagement_overview",
            "public/findings_report"} <= one_run

    with duckdb.connect(str(paths.identity_db), read_only=True) as con:
        token = con.execute("select record_token from records where source = ? and record_id = ?",
                            [AGENCY, NEW_YOUTH_ID]).fetchone()[0]
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        (person_key,) = con.execute("select person_key from spine.person_crosswalk where record_token = ?",
                                    [token]).fetchone()
        systems, n_records = con.execute(
            "select systems, n_records from spine.person_spine where person_key = ?", [person_key]).fetchone()
        after = {t: summer_participants(con, t, 2026) for t in before}
    assert (systems, n_records) == ([AGENCY], 1), "the new youth is a new person, linked to nobody"
    mart, public = "marts.summer_engagement_overview", "public.summer_engagement_overview"
    assert after[mart] == before[mart] + 1
    # Published counts are rounded: the public table carries the new count, rounded.
    assert after[public] == round_count(after[mart], disclosure_settings().rounding_base)
    # The findings page came from that same release, the one after the drop: the new count is on
    # it after one release, not the next.
    assert ran["public/findings_report"] == 1
    release = json.loads((paths.public / "current" / "release.json").read_text())
    assert release["previous_release"] == release_before
    page = paths.public / "findings" / "index.html"
    assert f"release {release['release_id']}" in page.read_text()
    assert summer_headline(page, "Participants") == format_value(after[public])


def summer_headline(page: Path, caption: str) -> str:
    """The number on the summer section's headline card with this caption."""
    summer = page.read_text().split('id="summer_engagement"')[1].split("</section>")[0]
    cards = re.findall(r'<div class="number">([^<]*)</div><div class="caption">([^<]*)</div>', summer)
    return next(number for number, text in cards if text == caption)
