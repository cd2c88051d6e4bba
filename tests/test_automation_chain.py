"""Hands-off automation: a drop lands and everything downstream follows.

The fast tests pin down ``AFTER_UPSTREAM`` on a toy graph shaped like the hub's (an unpartitioned
asset downstream of a per-drop dynamic-partitioned one) and check which assets the hub's
automation sensors and schedules cover. The slow test proves the whole chain on a real hub.
"""

import dagster as dg
import pytest

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM

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
