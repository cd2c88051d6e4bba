"""Register new drops without the sensors, for ``hub run`` and scripts."""

from __future__ import annotations

import logging

import dagster as dg

from hub_assets.defs.resources import HubResource, hub_resource
from hub_assets.defs.sources.partitions import drops_partitions
from hub_assets.sources.declaration import load_agencies
from hub_assets.sources.landing import SETTLE_SECONDS, receive_new_drops, report_landing_root, take_two_looks
from hub_assets.sources.outcomes import drops_to_load as pending_drops

log = logging.getLogger(__name__)


class RegisteredDrops(dict[str, list[str]]):
    """agency -> partition keys added; ``unmatched`` lists ``<agency>/<file>`` refused or matching
    no pattern, ``arriving`` the files still being written (taken by a later run)."""

    def __init__(self) -> None:
        super().__init__()
        self.unmatched: list[str] = []
        self.arriving: list[str] = []


def register_new_drops(instance: dg.DagsterInstance, hub: HubResource | None = None,
                       settle_seconds: float = SETTLE_SECONDS) -> RegisteredDrops:
    """Receive every new or corrected drop of every agency, as the sensors would, and add its
    partition. A file is taken once it is the same at two looks ``settle_seconds`` apart.
    Returns agency -> the partition keys added (agencies with none are left out); refused and
    unmatched files are logged, listed in ``reports/unmatched_files.md`` and in ``.unmatched``.
    Which drops to load is ``drops_to_load``: these, and any whose earlier load did not finish."""
    hub = hub or hub_resource()
    sources = load_agencies()
    added = RegisteredDrops()
    complete = take_two_looks(hub.paths, [s.name for s in sources], settle_seconds)
    for u in report_landing_root(hub.paths, [s.name for s in sources]):
        log.warning("landing: %s %s", u.file_name, u.reason)
        added.unmatched.append(f"{u.agency}/{u.file_name}")
    for source in sources:
        name = drops_partitions(source).name
        registration = receive_new_drops(source, hub.paths, set(instance.get_dynamic_partitions(name)),
                                         complete[source.name])
        for u in registration.unmatched:
            log.warning("agency %s: file %s %s; not loaded", u.agency, u.file_name, u.reason)
            added.unmatched.append(f"{u.agency}/{u.file_name}")
        added.arriving += [f"{source.name}/{f}" for f in registration.arriving]
        if registration.drop_ids:
            instance.add_dynamic_partitions(name, registration.drop_ids)
            added[source.name] = registration.drop_ids
    return added


def drops_to_load(hub: HubResource | None = None) -> dict[str, list[str]]:
    """agency -> every received drop not loaded yet: new ones, and any whose load did not finish
    (``hub_assets.sources.outcomes``). Agencies with none are left out."""
    hub = hub or hub_resource()
    pending = {source.name: pending_drops(hub.paths, source.name) for source in load_agencies()}
    return {name: drop_ids for name, drop_ids in pending.items() if drop_ids}
