"""Records reach a use case only once linkage has keyed them: ``AFTER_LINKAGE`` in the graph.

A toy graph shaped like the hub's: ``raw/toy`` (one partition per drop) is read both by
``toy/linkage`` (which keys the records, ``AFTER_UPSTREAM``) and by ``staging/toy`` (which joins
each record to its key). Each test evaluates the conditions against a real instance, carrying the
cursor from tick to tick as an automation sensor does, over the selection a sensor would own.
"""

import dagster as dg
import pytest

from hub_assets.defs.automation.conditions import AFTER_LINKAGE, AFTER_UPSTREAM

pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")

DROPS = dg.DynamicPartitionsDefinition(name="gate_drops")
RAW, LINKAGE, STAGING = dg.AssetKey(["raw", "toy"]), dg.AssetKey(["toy", "linkage"]), dg.AssetKey(["staging", "toy"])


def toy_graph(staging_condition: dg.AutomationCondition) -> list[dg.AssetsDefinition]:
    @dg.asset(key=RAW, partitions_def=DROPS)
    def raw() -> None: ...

    @dg.asset(key=LINKAGE, deps=[RAW], automation_condition=AFTER_UPSTREAM)
    def linkage() -> None: ...

    @dg.asset(key=STAGING, deps=[RAW, LINKAGE], automation_condition=staging_condition)
    def staging() -> None: ...

    return [raw, linkage, staging]


class Sensor:
    """One automation sensor's ticks over ``keys``, with its own cursor."""

    def __init__(self, assets, instance, keys):
        self.assets, self.instance, self.keys, self.cursor = assets, instance, keys, None

    def tick(self) -> set[dg.AssetKey]:
        result = dg.evaluate_automation_conditions(defs=self.assets, instance=self.instance, cursor=self.cursor,
                                                   asset_selection=dg.AssetSelection.assets(*self.keys))
        self.cursor = result.cursor
        return {r.key for r in result.results if result.get_num_requested(r.key)}


def land(assets, instance, drop_id: str) -> None:
    instance.add_dynamic_partitions(DROPS.name, [drop_id])
    assert dg.materialize(assets[:1], instance=instance, partition_key=drop_id).success


def run(assets, instance, keys) -> None:
    assert dg.materialize(assets, instance=instance, selection=list(keys)).success


def test_a_use_case_sensor_alone_waits_for_linkage(instance):
    """Evaluated apart from linkage (another sensor, another run), staging is not built on a drop
    alone; plain ``AFTER_UPSTREAM`` would build it on the unkeyed records at once."""
    gated, ungated = toy_graph(AFTER_LINKAGE), toy_graph(AFTER_UPSTREAM)
    gated_sensor, ungated_sensor = Sensor(gated, instance, [STAGING]), Sensor(ungated, instance, [STAGING])
    assert gated_sensor.tick() == ungated_sensor.tick() == set()  # the first tick takes stock
    land(gated, instance, "d1")
    assert ungated_sensor.tick() == {STAGING}, "the ungated condition builds on unlinked records"
    assert gated_sensor.tick() == set()
    assert gated_sensor.tick() == set(), "still waiting: linkage has not run"
    run(gated, instance, [LINKAGE])
    assert gated_sensor.tick() == {STAGING}, "once the records are keyed, staging follows"
    run(gated, instance, [STAGING])
    assert gated_sensor.tick() == set()


def test_one_sensor_requests_linkage_and_staging_together(instance):
    """In one evaluation, staging may be requested with the linkage that keys its records: one
    run, linkage first (dependency order)."""
    assets = toy_graph(AFTER_LINKAGE)
    sensor = Sensor(assets, instance, [LINKAGE, STAGING])
    sensor.tick()
    land(assets, instance, "d1")
    assert sensor.tick() == {LINKAGE, STAGING}
    run(assets, instance, [LINKAGE, STAGING])
    assert sensor.tick() == set()


def test_a_drop_landing_after_linkage_waits_for_the_next_linkage(instance):
    """Linkage ran, then another drop landed before staging was evaluated: the spine is newer
    than the last tick but older than the drop, so staging waits for linkage to run again."""
    assets = toy_graph(AFTER_LINKAGE)
    use_cases = Sensor(assets, instance, [STAGING])
    use_cases.tick()
    land(assets, instance, "d1")
    run(assets, instance, [LINKAGE])
    land(assets, instance, "d2")  # after linkage: its records have no key
    assert use_cases.tick() == set()
    assert use_cases.tick() == set()
    run(assets, instance, [LINKAGE])
    assert use_cases.tick() == {STAGING}
