"""Register new drops without the sensors, for ``hub run`` and scripts."""

from __future__ import annotations

import logging

import dagster as dg

from hub_assets.defs.resources import HubResource, hub_resource
from hub_assets.defs.sources.partitions import drops_partitions
from hub_assets.sources.declaration import load_agencies
from hub_assets.sources.landing import receive_new_drops

log = logging.getLogger(__name__)


class RegisteredDrops(dict[str, list[str]]):
    """agency -> partition keys added; ``unmatched`` lists ``<agency>/<file>`` matching no pattern."""

    def __init__(self) -> None:
        super().__init__()
        self.unmatched: list[str] = []


def register_new_drops(instance: dg.DagsterInstance, hub: HubResource | None = None) -> RegisteredDrops:
    """Receive every new or corrected drop of every agency, as the sensors would, and add its
    partition. Returns agency -> the partition keys added (agencies with none are left out);
    files matching no declared pattern are logged, listed in ``reports/unmatched_files.md``
    and returned in ``.unmatched``."""
    hub = hub or hub_resource()
    added = RegisteredDrops()
    for source in load_agencies():
        name = drops_partitions(source).name
        registration = receive_new_drops(source, hub.paths, set(instance.get_dynamic_partitions(name)))
        for u in registration.unmatched:
            log.warning("agency %s: file %s %s; not loaded", u.agency, u.file_name, u.reason)
            added.unmatched.append(f"{u.agency}/{u.file_name}")
        if registration.drop_ids:
            instance.add_dynamic_partitions(name, registration.drop_ids)
            added[source.name] = registration.drop_ids
    return added
