"""Which people's spine rows a publish must recompute, or None when it must rebuild them all.

A person's spine row is a function of their current records (attributes, drop dates) and of
which records their key holds, under the spine's rules (``rules.py``, the geography reference,
the agency declarations). Between two publishes it can change only if:

- a record joined or left the person (the crosswalk's (record_token, person_key) pairs differ:
  a new record, a record no longer current, a key carried elsewhere by a re-link);
- a record of the person was loaded again, or an older version arrived late (a ``records`` row
  loaded after the last publish: new attributes or new first/last seen dates).

Anything else that could change rows, the spine rebuilds in full: no previous publish, changed
rules, or a drop that was accepted at the last publish and no longer is (a re-delivered drop
replaces its earlier version's rows, which leaves no newer row behind). So does a change that
touches more than a third of the people, where recomputing everyone is as cheap.

The state of the last publish is one row in ``spine.publish_state``: the latest ``loaded_at``
it had seen, a digest of each accepted drop, and a fingerprint of the rules. ``loaded_at`` is the loading
machine's clock; loads and publishes never overlap (both write in the DuckDB writer pool).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from hub_assets.linkage import store
from hub_assets.reference import REFERENCE_DIR, geography
from hub_assets.sources.declaration import AGENCIES_DIR
from hub_assets.spine import rules as spine

STATE_TABLE = "spine.publish_state"
FULL_REBUILD_SHARE = 1 / 3  # beyond this share of people touched, recompute everyone


@dataclass(frozen=True)
class PublishState:
    through_loaded_at: datetime | None
    accepted_drops: tuple[str, ...]
    rules: str


def rules_fingerprint() -> str:
    """The spine's rules: its code, the geography reference and the agency declarations."""
    digest = hashlib.sha256()
    files = [spine.__file__, geography.__file__, *sorted(REFERENCE_DIR.glob("*.csv")),
             *sorted(AGENCIES_DIR.glob("*.yaml"))]
    for path in files:
        digest.update(Path(path).name.encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def current_state(identity: duckdb.DuckDBPyConnection) -> PublishState | None:
    """The identity zone's state now, or None if it lacks what incremental publishing needs."""
    if not (_has_column(identity, "records", "loaded_at") and _has_column(identity, "drops", "status")):
        return None
    loaded = identity.execute("select max(loaded_at) from records").fetchall()[0][0]
    # Digests, not drop IDs: the state lives in the warehouse, where no drop ID may be.
    drops = identity.execute("select sha256(agency || '/' || drop_id) from drops where status = 'accepted' "
                             "order by all").fetchall()
    return PublishState(loaded, tuple(d[0] for d in drops), rules_fingerprint())


def touched_people(identity: duckdb.DuckDBPyConnection, warehouse: duckdb.DuckDBPyConnection,
                   walk: pl.DataFrame, now: PublishState | None) -> set[str] | None:
    """Person keys (new or old) whose spine rows may differ from the last publish; None: all."""
    last = _last_state(warehouse)
    if now is None or last is None or last.rules != now.rules or last.through_loaded_at is None:
        return None
    if not set(last.accepted_drops) <= set(now.accepted_drops):
        return None
    previous = warehouse.sql("select record_token, person_key from spine.person_crosswalk").pl()
    moved = (walk.join(previous, on="record_token", how="full", coalesce=True, suffix="_before")
             .filter(pl.col("person_key").ne_missing(pl.col("person_key_before"))))
    reloaded = identity.sql("select distinct record_token from records where loaded_at > ?",
                            params=[last.through_loaded_at]).pl()
    touched = (set(moved["person_key"].drop_nulls()) | set(moved["person_key_before"].drop_nulls())
               | set(walk.join(reloaded, on="record_token", how="semi")["person_key"].drop_nulls()))
    people = walk["person_key"].n_unique()
    return None if len(touched) > FULL_REBUILD_SHARE * max(people, 1) else touched


def write_state(warehouse: duckdb.DuckDBPyConnection, state: PublishState | None) -> None:
    warehouse.execute(f"create or replace table {STATE_TABLE} "
                      "(through_loaded_at timestamp, accepted_drops varchar[], rules varchar)")
    if state is not None:
        warehouse.execute(f"insert into {STATE_TABLE} values (?, ?, ?)",
                          [state.through_loaded_at, list(state.accepted_drops), state.rules])


def _last_state(warehouse: duckdb.DuckDBPyConnection) -> PublishState | None:
    needed = ("publish_state", "person_spine", "person_crosswalk")
    if not all(store.table_exists(warehouse, table, schema="spine") for table in needed):
        return None
    rows = warehouse.execute(f"select through_loaded_at, accepted_drops, rules from {STATE_TABLE}").fetchall()
    return PublishState(rows[0][0], tuple(rows[0][1]), rows[0][2]) if rows else None


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.columns where table_schema = 'main' "
                            "and table_name = ? and column_name = ?", [table, column]).fetchall()[0][0])
