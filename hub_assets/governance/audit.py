"""The append-only audit log: every materialisation, public release, analyst export and read of
the identity zone (who read it and for what purpose: ``record_access``).

The log is kept twice: ``$HUB_DATA_DIR/audit.log`` (JSON lines, appended with O_APPEND, the
record of truth because a file append never waits for the warehouse lock) and the warehouse table
``audit.events`` (queryable), which is brought up to date from the file by inserting the events it
lacks. Nothing ever updates or deletes either: ``verify`` proves they agree and that no event
the table holds has disappeared from the file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import uuid
from pathlib import Path

import duckdb

FIELDS = ("id", "at", "who", "action", "what", "approval", "digest", "purpose")
IDENTITY_ACCESS = "identity_access"  # the action of every read of the identity zone
COLUMNS = ", ".join(f'"{f}"' for f in FIELDS)  # quoted: "at" is a keyword in DuckDB
TABLE_DDL = """
create schema if not exists audit;
create table if not exists audit.events (
    "id" varchar primary key, "at" timestamp not null, "who" varchar not null, "action" varchar not null,
    "what" varchar not null, "approval" varchar, "digest" varchar, "purpose" varchar
);
alter table audit.events add column if not exists "purpose" varchar;
"""


def log_path(data_dir: Path) -> Path:
    return Path(data_dir) / "audit.log"


def current_user() -> str:
    if os.environ.get("HUB_USER") or os.environ.get("USER"):
        return os.environ.get("HUB_USER") or os.environ["USER"]
    try:
        return getpass.getuser()  # the account's login name when no variable says otherwise
    except (KeyError, OSError):
        return "unknown"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def append_event(data_dir: Path, action: str, what: str, approval: str | None = None,
                 digest: str | None = None, event_id: str | None = None, who: str | None = None,
                 purpose: str | None = None) -> dict:
    """Append one event to the file log and return it."""
    event = {"id": event_id or uuid.uuid4().hex, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(),
             "who": who or current_user(), "action": action, "what": what, "approval": approval, "digest": digest,
             "purpose": purpose}
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(event, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return event


def read_log(data_dir: Path) -> list[dict]:
    path = log_path(data_dir)
    if not path.exists():
        return []
    events = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {n} is not a JSON event: {exc}") from exc
    return events


def sync_table(con: duckdb.DuckDBPyConnection, data_dir: Path) -> int:
    """Insert the file's events the table lacks (never update or delete). Returns rows inserted."""
    con.execute(TABLE_DDL)
    known = {row[0] for row in con.execute("select id from audit.events").fetchall()}
    new = [tuple(e.get(f) for f in FIELDS) for e in read_log(data_dir) if e["id"] not in known]
    if new:
        con.executemany(f"insert into audit.events ({COLUMNS}) values ({', '.join('?' for _ in FIELDS)})", new)
    return len(new)


def record_access(data_dir: Path, what: str, purpose: str, actor: str | None = None) -> dict:
    """Log one read of the identity zone: what was read, by whom (``actor``, else the OS
    account) and for what purpose. Appended to the file at once; the table catches up at the
    next sync (the warehouse may be held by a run). A read without a purpose is refused."""
    if not purpose or not purpose.strip():
        raise ValueError("a read of the identity zone needs a purpose (--purpose)")
    return append_event(data_dir, IDENTITY_ACCESS, what, who=actor or current_user(), purpose=purpose.strip())


def sync_if_free(data_dir: Path) -> None:
    """Bring ``audit.events`` up to date now if the warehouse is free; else the next build does."""
    warehouse = Path(data_dir) / "warehouse.duckdb"
    if not warehouse.exists():
        return
    try:
        with duckdb.connect(str(warehouse)) as con:
            sync_table(con, data_dir)
    except duckdb.IOException:
        pass  # a run holds the warehouse: the next build's audit_log asset inserts the event


def record(con: duckdb.DuckDBPyConnection | None, data_dir: Path, action: str, what: str,
           approval: str | None = None, digest: str | None = None) -> dict:
    """Append an event to the file and, given a writable warehouse connection, to the table."""
    event = append_event(data_dir, action, what, approval, digest)
    if con is not None:
        sync_table(con, data_dir)
    return event


def table_events(con: duckdb.DuckDBPyConnection) -> list[dict]:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'audit' "
                     "and table_name = 'events'").fetchone()[0]
    if not exists:
        return []
    rows = con.execute(f'select {COLUMNS} from audit.events order by "at", "id"').fetchall()
    return [{f: (v.isoformat() if isinstance(v, dt.datetime) else v) for f, v in zip(FIELDS, row)} for row in rows]


def verify(con: duckdb.DuckDBPyConnection, data_dir: Path, previous_rows: int | None = None) -> list[str]:
    """Problems with the log: the table and the file disagree, or the table lost rows."""
    file_events = {e["id"]: e for e in read_log(data_dir)}
    table = table_events(con)
    problems = []
    if previous_rows is not None and len(table) < previous_rows:
        problems.append(f"audit.events shrank from {previous_rows} to {len(table)} rows")
    for event in table:
        logged = file_events.get(event["id"])
        if logged is None:
            problems.append(f"audit.events row {event['id']} ({event['action']} {event['what']}) "
                            "is missing from audit.log")
        elif any(str(logged.get(f)) != str(event[f]) for f in FIELDS if f != "at") or \
                dt.datetime.fromisoformat(logged["at"]) != dt.datetime.fromisoformat(event["at"]):
            problems.append(f"audit.events row {event['id']} differs from its audit.log line")
    missing = set(file_events) - {e["id"] for e in table}
    if missing:
        problems.append(f"{len(missing)} audit.log events are not in audit.events")
    return problems
