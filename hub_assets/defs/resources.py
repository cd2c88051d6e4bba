"""Resources shared by every domain: the hub's data directory and its two DuckDB stores.

DuckDB allows one writer process per file, so connections are short (opened per use and
closed at once) and every asset that writes runs in the ``duckdb_writer`` pool (limit 1 in the
shipped instance configuration). Readers open read-only. A file is locked whole by any process
that has it open, reader or writer, so a check reading the warehouse while another run's writer
step holds it (or a writer opening it while a check reads) would fail on "Could not set lock";
instead every open waits for the other process's connection to close (they are short), up to
``LOCK_WAIT_SECONDS``, and only then fails, naming the holder.

Runs execute their steps in the run worker's own process (``in_process_executor``). The writer
pool lets one writer step run at a time anyway, so a process per step bought no parallelism,
only a Python start and an import of the hub per step (about 2-4 s each here, for steps that
take a fraction of a second). ``hub run`` executes in process already.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb

from hub_assets.settings import HubPaths, private_files
from hub_assets.sources.tokens import resolve_secret_key

T = TypeVar("T")

WRITER_POOL = "duckdb_writer"
LOCK_WAIT_SECONDS = 600.0


class HubResource(dg.ConfigurableResource):
    """The data directory and the stores in it."""

    data_dir: str
    secret_key: str | None = None  # from HUB_SECRET_KEY; a dev key is generated when unset

    @property
    def paths(self) -> HubPaths:
        return HubPaths(Path(self.data_dir).resolve()).ensure()

    @contextmanager
    def identity(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        # The store and its WAL are created 0600 (umask 077 while the connection is open).
        with private_files(), _connect(self.paths.identity_db, read_only) as con:
            yield con

    @contextmanager
    def warehouse(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with _connect(self.paths.warehouse_db, read_only) as con:
            yield con

    def key(self) -> bytes:
        # Inside a run Dagster has resolved the EnvVar to its value; a resource built and used
        # directly (the CLI, sensors registering drops) still holds the EnvVar, whose text is the
        # variable's name: resolve it here, or tokens would be keyed by the name.
        configured = self.secret_key.get_value() if isinstance(self.secret_key, dg.EnvVar) else self.secret_key
        return resolve_secret_key(configured, self.paths)


@contextmanager
def _connect(path: Path, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not path.exists():
        # A read-only open of a missing file fails; create it empty once.
        duckdb.connect(str(path)).close()
    con = _open_waiting(path, read_only)
    try:
        yield con
    finally:
        con.close()


def _open_waiting(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    return _waiting(lambda: duckdb.connect(str(path), read_only=read_only))


def attach_read_only(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    """Attach another store to ``con`` read-only, waiting as an open does while a writer holds it."""
    _waiting(lambda: con.execute(f"attach '{path}' as {alias} (read_only)"))


def _waiting(open_: Callable[[], T]) -> T:
    deadline, pause = time.monotonic() + LOCK_WAIT_SECONDS, 0.1
    while True:
        try:
            return open_()
        except duckdb.IOException as error:
            if "Could not set lock" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def hub_resource() -> HubResource:
    """Configured from the environment: HUB_DATA_DIR and (optionally) HUB_SECRET_KEY."""
    data_dir = os.environ.get("HUB_DATA_DIR", "data")
    secret = dg.EnvVar("HUB_SECRET_KEY") if os.environ.get("HUB_SECRET_KEY") else None
    return HubResource(data_dir=str(Path(data_dir).resolve()), secret_key=secret)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"hub": hub_resource()}, executor=dg.in_process_executor)
