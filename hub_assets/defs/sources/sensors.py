"""Each agency's sensor: notices new files in ``landing/<agency>/``, receives them, adds their
partitions and requests one run per drop.

The cursor holds the landing folder's fingerprint (name -> size, mtime), so a quiet folder costs
a directory listing and no hashing. Which bytes are new is decided by the archive (see
``hub_assets.sources.landing``): the same bytes delivered again never make a second run.
"""


import json

import dagster as dg

from hub_assets.defs.resources import HubResource
from hub_assets.defs.sources.partitions import drops_partitions, identity_key, raw_key
from hub_assets.sources.declaration import AgencySource
from hub_assets.sources.landing import landing_fingerprint, receive_new_drops

SENSOR_INTERVAL_SECONDS = 30


def drop_run_request(source: AgencySource, drop_id: str) -> dg.RunRequest:
    # The run key makes a repeated request for the same drop a no-op in the daemon.
    return dg.RunRequest(run_key=f"{source.name}:{drop_id}", partition_key=drop_id,
                         asset_selection=[identity_key(source), raw_key(source)],
                         tags={"hub/agency": source.name, "hub/drop_id": drop_id})


def build_drops_sensor(source: AgencySource) -> dg.SensorDefinition:
    partitions = drops_partitions(source)

    @dg.sensor(name=f"{source.name}_drops", minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               asset_selection=[identity_key(source), raw_key(source)],
               description=f"Loads each new drop of {source.title} from landing/{source.name}/ "
                           f"({source.file_pattern})")
    def drops_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        paths = hub.paths
        fingerprint = landing_fingerprint(paths, source.name)
        registered = set(context.instance.get_dynamic_partitions(partitions.name))
        cursor = json.loads(context.cursor) if context.cursor else {}
        if cursor.get("landing") == fingerprint and cursor.get("registered") == len(registered):
            return dg.SkipReason(f"no change in landing/{source.name}/")
        registration = receive_new_drops(source, paths, registered)
        for unmatched in registration.unmatched:
            context.log.warning(f"agency {source.name}: file {unmatched.file_name} {unmatched.reason}; "
                                "it is listed in reports/unmatched_files.md and was not loaded")
        for again in registration.redelivered:
            context.log.info(f"agency {source.name}: file {again.file_name} is a re-delivery of drop "
                             f"{again.drop_id} (same sha256); nothing to do")
        new_cursor = json.dumps({"landing": fingerprint,
                                 "registered": len(registered) + len(registration.drop_ids)})
        if not registration.drop_ids:
            return dg.SensorResult(skip_reason=f"no new drops in landing/{source.name}/", cursor=new_cursor)
        return dg.SensorResult(
            run_requests=[drop_run_request(source, d) for d in registration.drop_ids],
            dynamic_partitions_requests=[partitions.build_add_request(registration.drop_ids)],
            cursor=new_cursor,
        )

    return drops_sensor
