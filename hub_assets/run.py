"""``hub run``: the whole hub, synchronously, as the sensors and schedules would run it.

1. Register every new drop in the landing zone as a partition (the same scan the sensors do).
2. Ingest each agency's new drops in one run (a partition range, as a backfill launches it; a
   run costs about a second of Dagster bookkeeping, and an agency sends many drops). If that
   run fails, its drops are run again one per run, so each drop's outcome is recorded by name.
3. Bring everything downstream up to date in stages — linkage, spine, use cases, public —
   each stage a run recorded in the Dagster instance, so the UI shows the same history
   whether the hub ran by hand or by itself.
4. Print what was built and where, and exit non-zero naming whatever failed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
import dagster as dg

from hub_assets.settings import HubPaths
from hub_assets.settings import data_dir as default_data_dir

# Dagster's tags for a run over a partition range (what a single-run backfill sets).
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# EX_TEMPFAIL: another process holds the data directory; try again later.
BUSY_EXIT_CODE = 75
# How long to wait for a process left running by a killed run (a dbt build) to release a store.
STORE_WAIT_SECONDS = 900
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunOutcome:
    label: str
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class HubRunReport:
    outcomes: list[RunOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.ok]


def run_hub(data_dir: Path | None = None, wait_seconds: float = 0.0, rebuild: bool = False) -> int:
    """Run the hub on ``data_dir`` while holding its lock; another holder makes this wait up to
    ``wait_seconds``, then refuse (exit 75, naming the holder). ``rebuild``: ``hub rebuild``."""
    from hub_assets.runtime.lock import DataDirBusy, data_dir_lock

    paths = _prepare_environment(data_dir)
    command = "hub rebuild" if rebuild else "hub run"
    try:
        with data_dir_lock(paths.root, command, wait_seconds, on_wait=_say_waiting):
            return _run_hub(paths, rebuild)
    except DataDirBusy as busy:
        click.echo(f"{command}: refused: {busy}", err=True)
        return BUSY_EXIT_CODE
    except Exception as error:
        from hub_assets.runtime.disk import disk_full, disk_full_message, hub_write_dirs

        if not disk_full(error):
            raise
        click.echo(f"{command}: FAILED: {disk_full_message(hub_write_dirs(paths.root), error)}", err=True)
        return 1


def _say_waiting(holder: str) -> None:
    click.echo(f"hub run: waiting for {holder} to finish ...", err=True)


def _run_hub(paths: HubPaths, rebuild: bool = False) -> int:
    # Definitions read HUB_DATA_DIR when they load, so import them only now.
    from hub_assets.definitions import defs as load_defs
    from hub_assets.runtime.register import drops_to_load, register_new_drops

    defs = load_defs()
    instance = dg.DagsterInstance.get()
    report = HubRunReport()
    refusal = _start_up(paths, instance, check=not rebuild)
    if refusal:
        click.echo(f"hub run: refused: {refusal}", err=True)
        return 1

    if rebuild:
        _rebuild_stores(paths, instance)
    new_drops = register_new_drops(instance)
    # New drops, and any received earlier whose load did not finish (a kill, a full disk).
    to_load = drops_to_load()
    total = sum(len(keys) for keys in to_load.values())
    retried = max(0, total - sum(len(keys) for keys in new_drops.values()))
    click.echo(f"hub run: data dir {paths.root}; {total - retried} new drop(s) to ingest"
               + (f", {retried} received earlier and not loaded (loading again)" if retried else ""))
    done = 0
    for agency, partition_keys in sorted(to_load.items()):
        done = _ingest_agency(defs, instance, report, agency, partition_keys, done, total)

    outstanding = _outstanding_drops(paths)
    unloaded = [o for o in outstanding if o.state == "unloaded"]
    # Publishing without a drop whose load failed would release numbers missing its rows.
    stages = [] if unloaded else _downstream_stages(defs, paths)
    for n, (label, keys) in enumerate(stages, start=1):
        if not keys:
            continue
        click.echo(f"[stage {n}] {label}: {len(keys)} asset(s) ...", nl=False)
        outcome = _execute(defs, instance, label, keys)
        report.outcomes.append(outcome)
        click.echo(f" {'ok' if outcome.ok else 'FAILED'} ({outcome.seconds:.1f}s)")
        if not outcome.ok:
            break  # later stages read this stage's outputs

    _write_run_report(paths, report, outstanding)
    _save_state(paths)
    _print_summary(paths)
    for unmatched in new_drops.unmatched:
        click.echo(f"WARNING: {unmatched} was not loaded: refused, a duplicate, or matching no declared file "
                   f"pattern (listed with the reason in {paths.reports / 'unmatched_files.md'})", err=True)
    for arriving in new_drops.arriving:
        click.echo(f"WARNING: {arriving} is still being written; a later run takes it", err=True)
    for failure in report.failures:
        click.echo(f"FAILED: {failure.label}: {failure.error}", err=True)
    if unloaded:
        click.echo(f"FAILED: {len(unloaded)} drop(s) are not loaded, so nothing downstream was built and the "
                   "public zone keeps its last release; the next run loads them again", err=True)
    for drop in outstanding:
        click.echo(f"NOT LOADED: {drop.line()}", err=True)
    if any(o.state == "rejected" for o in outstanding):
        click.echo("A rejected drop stays listed until the agency sends a corrected file under the same name, "
                   "or it is withdrawn: hub drops withdraw AGENCY DROP_ID --reason TEXT", err=True)
    return 1 if report.failures or outstanding else 0


def _outstanding_drops(paths: HubPaths) -> list:
    """Every agency's drops that are rejected or not loaded (``hub_assets.sources.outcomes``)."""
    from hub_assets.sources.declaration import load_agencies
    from hub_assets.sources.outcomes import outstanding

    return [o for source in load_agencies() for o in outstanding(paths, source.name)]


def _prepare_environment(data_dir: Path | None) -> HubPaths:
    paths = HubPaths((data_dir or default_data_dir()).resolve()).ensure()
    os.environ["HUB_DATA_DIR"] = str(paths.root)
    from hub_assets.runtime.instance import ensure_dagster_home

    # An operator's DAGSTER_HOME wins; otherwise the instance lives in the data dir.
    os.environ.setdefault("DAGSTER_HOME", str(ensure_dagster_home(paths.root)))
    return paths


def _start_up(paths: HubPaths, instance: dg.DagsterInstance, check: bool = True) -> str | None:
    """Make sure the stores can be used and nothing dead holds them; return why not, if not."""
    from hub_assets.runtime.stores import StoreUnusable, check_stores, wait_for_store_writers

    try:
        if check:
            check_stores(paths, instance)
        wait_for_store_writers(paths, STORE_WAIT_SECONDS, lambda line: click.echo(f"hub run: {line}", err=True))
    except (StoreUnusable, TimeoutError) as error:
        return str(error)
    _release_dead_runs(instance)
    return None


def _rebuild_stores(paths: HubPaths, instance: dg.DagsterInstance) -> None:
    """``hub rebuild``: set the stores aside with the drop outcomes that described them (a
    withdrawal is the operator's decision and stays), restore the state that cannot be derived
    again into a new identity store, and register any archived drop the Dagster instance lacks;
    the run then loads every received drop again, as drops without an outcome."""
    from hub_assets.defs.sources.partitions import drops_partitions
    from hub_assets.runtime.state import restore_state, set_outcomes_aside, set_stores_aside, state_dir
    from hub_assets.sources.declaration import load_agencies
    from hub_assets.sources.landing import received_drop_ids

    for moved in set_stores_aside(paths) + set_outcomes_aside(paths):
        click.echo(f"hub rebuild: set aside {moved}")
    if not (state_dir(paths) / "state.json").exists():
        click.echo(f"hub rebuild: WARNING: no saved state in {state_dir(paths)}; every person "
                   f"gets a new key and review decisions are lost", err=True)
    for table, rows in restore_state(paths).items():
        click.echo(f"hub rebuild: restored {rows:,} row(s) of {table} from {state_dir(paths)}")
    for source in load_agencies():
        name = drops_partitions(source).name
        registered = set(instance.get_dynamic_partitions(name))
        missing = [d for d in received_drop_ids(paths, source.name) if d not in registered]
        if missing:  # the Dagster instance was lost too: register the archive again
            instance.add_dynamic_partitions(name, missing)


def _save_state(paths: HubPaths) -> None:
    """Snapshot what a rebuild cannot derive (hub_assets/runtime/state.py)."""
    from hub_assets.runtime.state import save_state

    try:
        save_state(paths)
    except Exception as error:  # noqa: BLE001 - the run's own outcome stands; say why not saved
        click.echo(f"WARNING: the identity state was not saved to {paths.root / 'state'}: {error}", err=True)


def _release_dead_runs(instance: dg.DagsterInstance) -> None:
    """Runs left in progress by a process that died hold their pool slots: release them first,
    or this run's writer steps would wait for them forever."""
    from hub_assets.runtime.dead_runs import release_dead_runs

    for dead in release_dead_runs(instance):
        click.echo(f"hub run: run {dead.run_id} ({dead.job_name}) was left in progress by "
                   f"{dead.worker}, which is gone: marked failed"
                   f"{', its pool slots freed' if dead.slots_freed else ''}", err=True)


def _ingest_keys(defs: dg.Definitions, agency: str) -> list[dg.AssetKey]:
    return [key for key in defs.resolve_all_asset_keys() if key.path[-1] == agency
            and key.path[0] in ("raw", "identity")]


def _ingest_agency(defs: dg.Definitions, instance: dg.DagsterInstance, report: HubRunReport, agency: str,
                   drop_ids: list[str], done: int, total: int) -> int:
    """Ingest an agency's new drops in one run; if it fails, one run per drop. Returns ``done``."""
    keys = _ingest_keys(defs, agency)
    if len(drop_ids) > 1 and _is_partition_range(instance, agency, drop_ids):
        label = f"ingest {agency} {len(drop_ids)} drops ({drop_ids[0]} .. {drop_ids[-1]})"
        click.echo(f"[{done + len(drop_ids)}/{total}] {label} ...", nl=False)
        outcome = _execute(defs, instance, label, keys, partition_range=(drop_ids[0], drop_ids[-1]))
        click.echo(f" {'ok' if outcome.ok else 'FAILED'} ({outcome.seconds:.1f}s)")
        if outcome.ok:
            report.outcomes.append(outcome)
            return done + len(drop_ids)
        # Nothing of the batch is recorded as materialised: run each drop alone, so the drop
        # that failed fails by name and every other drop is loaded and recorded.
        click.echo(f"  {outcome.error}\n  running {agency}'s drops one per run:")
    for drop_id in drop_ids:
        done += 1
        label = f"ingest {agency} {drop_id}"
        click.echo(f"[{done}/{total}] {label} ...", nl=False)
        outcome = _execute(defs, instance, label, keys, partition_key=drop_id)
        report.outcomes.append(outcome)
        click.echo(f" {'ok' if outcome.ok else 'FAILED'} ({outcome.seconds:.1f}s)")
    return done


def _is_partition_range(instance: dg.DagsterInstance, agency: str, drop_ids: list[str]) -> bool:
    """Whether ``drop_ids`` are exactly the partitions from the first to the last, in order."""
    from hub_assets.defs.sources.partitions import drops_partitions
    from hub_assets.sources.declaration import agency as declared

    registered = instance.get_dynamic_partitions(drops_partitions(declared(agency)).name)
    if drop_ids[0] not in registered:
        return False
    start = registered.index(drop_ids[0])
    return registered[start:start + len(drop_ids)] == drop_ids


def _downstream_stages(defs: dg.Definitions, paths: HubPaths) -> list[tuple[str, list[dg.AssetKey]]]:
    """Unpartitioned assets, split into stages in the order of the flow diagram."""
    from hub_assets.defs.linkage.assets import MODEL_KEY
    from hub_assets.linkage.operations import LinkagePaths

    graph = defs.resolve_asset_graph()
    unpartitioned = {key for key in graph.get_all_asset_keys()
                     if graph.get(key).is_materializable and not graph.get(key).is_partitioned}
    if LinkagePaths.of(paths).model.exists():
        # Retraining is explicit (weekly schedule, or by hand), never a side effect of new
        # drops: a run trains the model only when the hub has none yet.
        unpartitioned.discard(MODEL_KEY)
    stages = [
        ("linkage", dg.AssetSelection.groups("linkage")),
        ("person spine", dg.AssetSelection.groups("spine")),
        ("use cases (dbt build)", dg.AssetSelection.kind("dbt")),
    ]
    taken: set[dg.AssetKey] = set()
    ordered = []
    for label, selection in stages:
        keys = sorted(selection.resolve(graph) & unpartitioned - taken)
        taken.update(keys)
        ordered.append((label, keys))
    ordered.append(("public zone, governance and findings", sorted(unpartitioned - taken)))
    return ordered


def _execute(defs: dg.Definitions, instance: dg.DagsterInstance, label: str, keys: list[dg.AssetKey],
             partition_key: str | None = None, partition_range: tuple[str, str] | None = None) -> RunOutcome:
    started = time.monotonic()
    job = defs.resolve_implicit_job_def_def_for_assets(keys)
    from hub_assets.runtime.workers import worker_tags

    # The worker tags let a later `hub run` or run monitoring tell if this process died mid-run.
    tags = {"hub/trigger": "hub run"} | worker_tags()
    if partition_range:
        start, end = partition_range
        tags |= {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
    result = job.execute_in_process(
        instance=instance,
        asset_selection=keys,
        partition_key=partition_key,
        run_config=QUIET_LOGS,
        raise_on_error=False,
        tags=tags,
    )
    error = "" if result.success else _first_error(result)
    from hub_assets.runtime.disk import disk_full, disk_full_message, hub_write_dirs

    if error and disk_full(error):
        error = disk_full_message(hub_write_dirs(Path(os.environ["HUB_DATA_DIR"])), error)
    return RunOutcome(label, result.success, time.monotonic() - started, error)


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
    return "run failed (see the run in the Dagster UI)"


def _write_run_report(paths: HubPaths, report: HubRunReport, outstanding: list = ()) -> None:
    """What ran and how long it took, and the drops not loaded, for operators and the benchmarks."""
    out = paths.reports / "hub_run.json"
    out.write_text(json.dumps({"outcomes": [asdict(o) for o in report.outcomes],
                               "drops_not_loaded": [asdict(o) for o in outstanding]}, indent=2))


def _print_summary(paths: HubPaths) -> None:
    from hub_assets.summary import hub_summary

    click.echo(hub_summary(paths))
