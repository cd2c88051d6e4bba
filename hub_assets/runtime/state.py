"""The identity store's state that cannot be derived again from the archive, kept beside it.

Everything in ``identity.duckdb`` and ``warehouse.duckdb`` can be rebuilt from the immutable
archive of drops (``archive/<agency>/<drop_id>``) except what people and time decided:

- ``person_keys`` and ``key_events``: keys are random (``hub_assets/linkage/keys.py``) and
  carried forward across re-links; a re-link from scratch would give every person a new key;
- ``clusters``: the last full re-link, which the next one carries keys forward from;
- ``review_queue`` and ``review_decisions``: a reviewer's answers and what they answer.

``save_state`` writes those tables to ``$HUB_DATA_DIR/state/<table>.parquet`` (each file
written aside and renamed over the old one, so a crash leaves the previous snapshot whole) at
the end of every ``hub run``; ``restore_state`` loads them into a new identity store for
``hub rebuild``. The trained model (``linkage/model.json``) and the release history
(``audit.log``) are files already; docs/operations.md lists what to back up.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from hub_assets.linkage import store as linkage_store
from hub_assets.settings import HubPaths, private_files

STATE_TABLES = ("person_keys", "key_events", "clusters", "review_queue", "review_decisions")


def state_dir(paths: HubPaths) -> Path:
    return paths.root / "state"


def save_state(paths: HubPaths) -> dict[str, int] | None:
    """Snapshot the state tables; None if the identity store holds no person keys yet."""
    if not paths.identity_db.exists():
        return None
    folder = state_dir(paths)
    counts: dict[str, int] = {}
    # Identity-zone content: the snapshot is the owner's only, like the store it comes from.
    with private_files(), duckdb.connect(str(paths.identity_db), read_only=True) as con:
        if not linkage_store.table_exists(con, "person_keys"):
            return None
        folder.mkdir(exist_ok=True)
        for table in STATE_TABLES:
            if not linkage_store.table_exists(con, table):
                continue
            target = folder / f"{table}.parquet"
            aside = target.with_suffix(".parquet.writing")
            con.execute(f"copy (select * from {table}) to '{aside}' (format parquet)").fetchall()
            os.replace(aside, target)
            counts[table] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    manifest = folder / "state.json"
    with private_files():
        manifest.with_suffix(".writing").write_text(json.dumps(
            {"saved_at": datetime.now(UTC).isoformat(timespec="seconds"), "rows": counts}, indent=2))
    os.replace(manifest.with_suffix(".writing"), manifest)
    return counts


def restore_state(paths: HubPaths) -> dict[str, int]:
    """Load the snapshot into the (new, empty) identity store; returns rows per table."""
    folder = state_dir(paths)
    counts: dict[str, int] = {}
    with private_files(), duckdb.connect(str(paths.identity_db)) as con:
        linkage_store.ensure_tables(con)
        for table in STATE_TABLES:
            snapshot = folder / f"{table}.parquet"
            if not snapshot.exists():
                continue
            con.execute(f"insert into {table} by name select * from read_parquet('{snapshot}')").fetchall()
            counts[table] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    return counts


def set_outcomes_aside(paths: HubPaths) -> list[Path]:
    """Move the drop outcomes (``outcomes/<agency>/<drop_id>.json``) that say what the stores
    held out of the way, so every received drop is loaded again; withdrawals stay."""
    folder = paths.root / "outcomes"
    if not folder.is_dir():
        return []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = paths.root / f"outcomes.before-rebuild-{stamp}"
    moved = 0
    for outcome in sorted(folder.glob("*/*.json")):
        if json.loads(outcome.read_text()).get("outcome") == "withdrawn":
            continue
        target = aside / outcome.parent.name / outcome.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(outcome, target)
        moved += 1
    return [aside] if moved else []


def set_stores_aside(paths: HubPaths) -> list[Path]:
    """Move the present stores (and their WAL files) out of the way, never deleting them: a
    store that could not be opened may still be wanted for forensics."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for store in (paths.identity_db, paths.warehouse_db):
        for path in (store, store.with_name(store.name + ".wal")):
            if path.exists():
                target = path.with_name(f"{path.name}.before-rebuild-{stamp}")
                os.replace(path, target)
                moved.append(target)
    return moved
