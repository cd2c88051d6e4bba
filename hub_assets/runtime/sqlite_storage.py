"""The embedded instance's storage: Dagster's SQLite storage, with its event-log connections reused.

Dagster's ``SqliteEventLogStorage`` builds a new SQLAlchemy engine, and opens and closes a new
SQLite connection, for every use; every event uses one to three (the run's own database, then
the index for asset and check events). A new engine has an empty statement cache, so each event
compiles its SQL afresh; and closing a database's last connection checkpoints its WAL, a disk
sync. Measured on this machine (``benchmarks/bench_event_log.py``), that is 18-35 ms per event
depending on the disk's mood, and a hub run stores about 1,300 events on an incremental drop.

``HubSqliteEventLogStorage`` keeps one engine per database file (the index and the last few
runs), each with SQLAlchemy's default pool for SQLite files (``QueuePool``): one connection
kept open and handed out again. Those connections commit with ``synchronous=NORMAL``, SQLite's
advice for WAL mode: a commit no longer waits for a disk sync (the WAL is synced at each
checkpoint instead), the database cannot be corrupted, and only a power cut or OS crash can lose
the last events committed before it, which an embedded single-machine default may accept.
Measured 6.8-8.0 -> 4.3-5.8 ms per event. Nothing else changes: the same files in the same
folders, WAL mode, the busy timeout, one transaction per write. Other processes (the webserver, the
daemon, run workers) read and write the same files as before; an open idle connection holds
no lock in WAL mode, and SQLite still checkpoints the WAL as it grows.

It overrides one private method of Dagster's class, ``_connect``, keeping its body except for
the engine lookup. If a Dagster upgrade changes that method, every test that runs the hub
through an instance exercises this class. PostgreSQL (``deploy/postgres/dagster.yaml``) pools
its connections already and is unaffected.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Engines kept: the index shard plus the runs in flight. A long-lived webserver reads many old
# runs; beyond this many, the least recently used engine is dropped with its connection (and
# rebuilt if needed), so the open files stay bounded.
KEPT_ENGINES = 16
# Dagster serialises a storage's connections with a lock, so one is in use at a time per
# process; a few more may open (and close again) if that ever changes.
POOL_SIZE, MAX_OVERFLOW = 1, 4


def _wal_commits_without_sync(dbapi_connection, _record) -> None:
    """Each new pooled connection: commits in WAL mode without a disk sync (see above)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class HubSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that reuses one SQLAlchemy engine, and its pooled connection,
    per shard (database file)."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool,
                                       pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                event.listen(engine, "connect", _wal_commits_without_sync)
            self._engines[shard] = engine  # most recently used last
            while len(self._engines) > KEPT_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's body, except that the engine comes from _engine() and is not disposed.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()


class HubSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (same three stores, same folders under ``base_dir``), with the
    event log above. Configured in ``deploy/dagster.yaml`` as ``storage: custom``."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        # Dagster names its event log class inline; swap in ours over the same folder. (The
        # stock one built above holds nothing open: its file watcher starts only when used.)
        self._event_log_storage = HubSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> HubSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
