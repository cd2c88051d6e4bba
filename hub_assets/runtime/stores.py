"""The hub's two DuckDB stores at start-up: present when they should be, readable, and free.

- **Missing**: once the Dagster instance records an agency drop as loaded, ``identity.duckdb``
  and ``warehouse.duckdb`` hold its rows. If either file is gone, running on would recreate its
  tables empty and republish every public table empty; ``check_stores`` refuses instead, naming
  the file and the way back (``hub rebuild``, docs/operations.md "Backup and restore").
- **Corrupt**: a file DuckDB cannot open (truncated, overwritten) is refused the same way.
- **Held**: a process killed mid-run can leave a child running that still writes a store (dbt,
  which ``hub run`` starts as a subprocess, outlives a ``kill -9`` of its parent).
  ``wait_for_store_writers`` waits for it to finish, naming its pid, rather than failing on
  DuckDB's "Could not set lock".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from hub_assets.settings import HubPaths

LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class StoreUnusable(RuntimeError):
    """A store is missing or corrupt; the message names it and says how to recover."""


def stores(paths: HubPaths) -> dict[str, Path]:
    return {"identity store": paths.identity_db, "warehouse": paths.warehouse_db}


def loaded_drop_count(instance: dg.DagsterInstance) -> int:
    """How many agency drops the Dagster instance records as loaded into the stores."""
    return sum(len(instance.get_materialized_partitions(key))
               for key in instance.get_asset_keys() if key.path[0] == "raw")


def check_stores(paths: HubPaths, instance: dg.DagsterInstance) -> None:
    """Raise ``StoreUnusable`` if a store the instance says holds data is missing or unreadable."""
    loaded = loaded_drop_count(instance)
    for label, path in stores(paths).items():
        if not path.exists():
            if loaded:
                raise StoreUnusable(
                    f"the {label} {path} is missing, but {loaded} drop(s) were loaded into it. "
                    f"Running on would publish empty tables. Restore it from a backup, or run "
                    f"`hub rebuild` to recreate it from the archive (docs/operations.md, "
                    f"\"Backup and restore\").")
            continue
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                _refuse_if_truncated(con, path)
        except duckdb.IOException as error:
            if LOCK_HOLDER.search(str(error)):
                continue  # in use: wait_for_store_writers deals with it
            raise StoreUnusable(_corrupt(label, path, error)) from error
        except duckdb.Error as error:
            raise StoreUnusable(_corrupt(label, path, error)) from error


class _Truncated(duckdb.Error):
    pass


def _refuse_if_truncated(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A DuckDB file shorter than the blocks its header counts was cut off (a copy or a disk that
    ended early). DuckDB opens it and fails only when a query reaches a missing block. With a
    WAL beside it the counts may include blocks not yet written back, so the check is skipped."""
    if path.with_name(path.name + ".wal").exists():
        return
    (_, _, block_size, total_blocks, *_), = con.execute("pragma database_size").fetchall()
    expected = int(block_size) * int(total_blocks)
    if path.stat().st_size < expected:
        raise _Truncated(f"the file is {path.stat().st_size:,} bytes but its header counts "
                         f"{total_blocks} blocks of {block_size:,} bytes: it was cut off")


def _corrupt(label: str, path: Path, error: Exception) -> str:
    return (f"the {label} {path} cannot be opened ({str(error).splitlines()[0]}). Restore it from "
            f"a backup, or move it aside and run `hub rebuild` (docs/operations.md, \"Backup and "
            f"restore\").")


def wait_for_store_writers(paths: HubPaths, timeout_seconds: float,
                           say: Callable[[str], None]) -> None:
    """Wait until no other process holds a store's write lock; raise ``TimeoutError`` naming
    the holder after ``timeout_seconds``."""
    deadline = time.monotonic() + timeout_seconds
    for label, path in stores(paths).items():
        told = False
        while path.exists():
            holder = _lock_holder(path)
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the {label} {path} is still held by {holder} after "
                                   f"{timeout_seconds:.0f} s")
            if not told:
                say(f"the {label} {path} is held by {holder} (left running by an earlier "
                    f"run?); waiting for it to finish ...")
                told = True
            time.sleep(1.0)


def _lock_holder(path: Path) -> str | None:
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        found = LOCK_HOLDER.search(str(error))
        if found:
            return f"pid {found['pid']} ({found['program']})"
        raise
    return None
