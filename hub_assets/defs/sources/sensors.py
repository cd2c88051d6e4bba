"""Each agency's sensor: notices new files in ``landing/<agency>/``, receives them once they are
complete, adds their partitions and requests one run per drop; and requests a drop's run again
while the drop is received but not loaded.

The cursor holds the landing folder's fingerprint (name -> size, mtime) at the last look, so a
quiet folder costs a directory listing and no hashing, and a file is taken once it is the same
at two looks (this tick's and the last, or two looks a moment apart within a tick). Which bytes
are new is decided by the archive (see ``hub_assets.sources.landing``): the same bytes delivered
again never make a second run. Whether a drop is loaded is decided by its outcome
(``hub_assets.sources.outcomes``), written only once its rows are committed.
"""


import json
import time
from datetime import UTC, datetime

import dagster as dg

from hub_assets.defs.automation.sensors import WRITES_WAREHOUSE
from hub_assets.defs.resources import HubResource
from hub_assets.defs.sources.partitions import drops_partitions, identity_key, raw_key
from hub_assets.sources.declaration import AgencySource
from hub_assets.sources.landing import SETTLE_SECONDS, landing_fingerprint, receive_new_drops, settled
from hub_assets.sources.outcomes import drops_to_load

# A quiet tick is a directory listing; each second between ticks is on the path from a landed
# file to its release (benchmarks/bench_hands_off.py).
SENSOR_INTERVAL_SECONDS = 10
RETRY_BACKOFF_SECONDS = (30, 60, 120, 300, 900, 3600)  # after the 1st, 2nd, ... failed load


def drop_run_request(source: AgencySource, drop_id: str, attempt: int = 0) -> dg.RunRequest:
    # The run key makes a repeated request for the same drop (and attempt) a no-op in the daemon.
    run_key = f"{source.name}:{drop_id}" + (f":retry{attempt}" if attempt else "")
    return dg.RunRequest(run_key=run_key, partition_key=drop_id,
                         asset_selection=[identity_key(source), raw_key(source)],
                         tags={"hub/agency": source.name, "hub/drop_id": drop_id, **WRITES_WAREHOUSE})


def retry_requests(source: AgencySource, instance: dg.DagsterInstance, paths, registered: set[str],
                   now: float | None = None) -> list[dg.RunRequest]:
    """A run for each registered drop that is not loaded although a run for it has finished
    (it failed, or died and was marked failed), once the backoff after that run has passed.
    A drop whose run is queued or in progress waits for it; a drop that never had a run of
    its own (a ``hub run`` batch died) is loaded again by the next ``hub run``."""
    now = now if now is not None else datetime.now(UTC).timestamp()
    requests = []
    for drop_id in drops_to_load(paths, source.name):
        if drop_id not in registered:
            continue  # a new drop: its first run is requested with its partition
        runs = [r for r in instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/partition": drop_id}))
                if raw_key(source) in (r.dagster_run.asset_selection or ())]
        if not runs or not all(r.dagster_run.is_finished for r in runs):
            continue
        latest_end = max(r.end_time or 0 for r in runs)
        if now - latest_end < RETRY_BACKOFF_SECONDS[min(len(runs), len(RETRY_BACKOFF_SECONDS)) - 1]:
            continue
        requests.append(drop_run_request(source, drop_id, attempt=len(runs)))
    return requests


def build_drops_sensor(source: AgencySource) -> dg.SensorDefinition:
    partitions = drops_partitions(source)

    @dg.sensor(name=f"{source.name}_drops", minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               asset_selection=[identity_key(source), raw_key(source)],
               description=f"Loads each new drop of {source.title} from landing/{source.name}/ "
                           f"({source.file_pattern}), and loads again a drop whose load did not finish")
    def drops_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        paths = hub.paths
        fingerprint = landing_fingerprint(paths, source.name)
        registered = set(context.instance.get_dynamic_partitions(partitions.name))
        cursor = json.loads(context.cursor) if context.cursor else {}
        previous = cursor.get("landing", {})
        retries = retry_requests(source, context.instance, paths, registered)
        if (previous == fingerprint and cursor.get("registered") == len(registered)
                and not cursor.get("arriving") and not retries):
            return dg.SkipReason(f"no change in landing/{source.name}/")
        complete = settled(previous, fingerprint)
        if set(fingerprint) - complete:
            # A second look a moment later, rather than a whole tick later.
            time.sleep(SETTLE_SECONDS)
            second = landing_fingerprint(paths, source.name)
            complete = settled(previous, second) | settled(fingerprint, second)
            fingerprint = second
        registration = receive_new_drops(source, paths, registered, complete)
        for unmatched in registration.unmatched:
            context.log.warning(f"agency {source.name}: file {unmatched.file_name} {unmatched.reason}; "
                                "it is listed in reports/unmatched_files.md and was not loaded")
        for again in registration.redelivered:
            context.log.info(f"agency {source.name}: file {again.file_name} is a re-delivery of drop "
                             f"{again.drop_id} (same sha256); nothing to do")
        for name in registration.arriving:
            context.log.info(f"agency {source.name}: file {name} is still being written; it is taken once "
                             "its size and modification time stop changing")
        requests = [drop_run_request(source, d) for d in registration.drop_ids] + retries
        new_cursor = json.dumps({"landing": fingerprint, "arriving": registration.arriving,
                                 "registered": len(registered) + len(registration.drop_ids)})
        if not requests:
            return dg.SensorResult(skip_reason=f"no new drops in landing/{source.name}/", cursor=new_cursor)
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=([partitions.build_add_request(registration.drop_ids)]
                                         if registration.drop_ids else []),
            cursor=new_cursor,
        )

    return drops_sensor
