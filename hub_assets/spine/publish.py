"""Publishing the spine: ``spine.person_crosswalk``, ``spine.person_spine`` and
``spine.person_key_history`` written to the warehouse from the identity zone, all or nothing,
recomputing only the people a change may have touched (``delta``).
"""

from __future__ import annotations

import duckdb
import polars as pl

from hub_assets.linkage import store
from hub_assets.sources.stores import transaction
from hub_assets.spine import delta as spine_delta
from hub_assets.spine.rules import crosswalk, person_spine


def record_seen_dates(identity: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """record_token -> dates of the first and last drop that carried the record."""
    if store.table_exists(identity, "records") and store.table_exists(identity, "drops"):
        sql = """select r.record_token,
                        min(coalesce(d.received_at, r.loaded_at))::date as first_seen,
                        max(coalesce(d.received_at, r.loaded_at))::date as last_seen
                 from records r left join drops d using (drop_id) group by r.record_token"""
    else:
        sql = """select record_token, min(loaded_at)::date as first_seen,
                        max(loaded_at)::date as last_seen from current_records group by 1"""
    return identity.sql(sql).pl()


def publish_spine(identity: duckdb.DuckDBPyConnection, warehouse: duckdb.DuckDBPyConnection
                  ) -> dict[str, int]:
    """Write spine.person_crosswalk, spine.person_spine and spine.person_key_history, all or
    nothing.

    The spine's rows are recomputed only for the people a change since the last publish may
    have touched (``spine_delta``: on the 1M-row city a 10k-row drop touches a few thousand of
    287k people), or for everyone when that cannot be known. The table is the same either way."""
    state = spine_delta.current_state(identity)  # read first: nothing loads while this runs
    records = identity.sql("select record_token, source, dob, sex, race_ethnicity, address, zip, "
                           "loaded_at from current_records").pl()
    keys = store.read(identity, "person_keys")
    walk = crosswalk(keys, records)
    history = store.read(identity, "key_events").select("event", "before_key", "after_key", "n_records", "at")
    warehouse.execute("create schema if not exists spine")
    touched = spine_delta.touched_people(identity, warehouse, walk, state)
    if touched is not None:
        tokens = walk.filter(pl.col("person_key").is_in(list(touched))).select("record_token")
        records, keys = (frame.join(tokens, on="record_token", how="semi") for frame in (records, keys))
    rows = person_spine(records, keys, record_seen_dates(identity))
    with transaction(warehouse):
        if touched is None:
            _write(warehouse, "person_spine", rows)
        else:
            warehouse.execute("delete from spine.person_spine where person_key in (select unnest(?))",
                              [sorted(touched)])
            with store.registered(warehouse, "_hub_frame", rows):
                warehouse.execute("insert into spine.person_spine by name select * from _hub_frame")
        _write(warehouse, "person_crosswalk", walk)
        _write(warehouse, "person_key_history", history)
        spine_delta.write_state(warehouse, state)
    counts = {name: warehouse.execute(f"select count(*) from spine.{name}").fetchall()[0][0]
              for name in ("person_crosswalk", "person_spine", "person_key_history")}
    return counts | {"people_recomputed": rows.height}


def _write(warehouse: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    with store.registered(warehouse, "_hub_frame", frame):
        warehouse.execute(f"create or replace table spine.{table} as select * from _hub_frame")
