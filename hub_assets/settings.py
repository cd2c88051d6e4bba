"""Where the hub keeps its zones on disk, all under one data directory.

The data directory comes from ``HUB_DATA_DIR`` (default ``./data``). The layout follows the
design's zones: landing and archive files, the identity store, the warehouse, the public
zone and the reports written back to agencies.

Permissions are a contract, checked at start-up (``HubPaths.ensure``, which every resource,
``hub run`` and the ``hub`` command go through): the identity store, the archive and the key
file are readable by the owning account only, 0600 files in 0700 directories, set when each
is created (``private_files``, ``private_dir``). A group- or world-readable one stops the hub
with ``PermissionError`` naming the path. The development key (made when ``HUB_SECRET_KEY`` is
unset) lives outside the data directory, so no copy or backup of the data carries it.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
FIXTURE_CITY_DIR = PROJECT_ROOT / "fixtures" / "city"
GOVERNANCE_FILE = PROJECT_ROOT / "governance.yaml"

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO  # any group or world permission bit
_umask_lock = threading.Lock()
_umask_state = {"depth": 0, "saved": 0}


@contextmanager
def private_files() -> Iterator[None]:
    """Files and directories created inside the block are the owner's only (umask 077): for
    what the hub cannot create with an explicit mode, such as DuckDB's database and WAL files.
    The umask is process-wide: the first block to open sets it, the last to close restores it,
    so overlapping blocks in threads never leave it open or closed by mistake."""
    with _umask_lock:
        if _umask_state["depth"] == 0:
            _umask_state["saved"] = os.umask(0o077)
        _umask_state["depth"] += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_state["depth"] -= 1
            if _umask_state["depth"] == 0:
                os.umask(_umask_state["saved"])


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 directories."""
    with private_files():
        Path(path).mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return Path(path)


def write_private(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> Path:
    """Create ``path`` with ``mode`` from its first byte (never a wider mode fixed up later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Path(path)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/youth-data-hub`` (default ``~/.config/youth-data-hub``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "youth-data-hub"


def dev_key_file() -> Path:
    """Where the development key lives: ``HUB_KEY_FILE``, else ``dev_secret_key`` in the config
    directory. Never inside the data directory (``check_permissions`` refuses it there)."""
    configured = os.environ.get("HUB_KEY_FILE")
    return Path(configured).resolve() if configured else config_dir() / "dev_secret_key"


@dataclass(frozen=True)
class HubPaths:
    """Every path the hub reads or writes, derived from one data directory."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def identity_db(self) -> Path:
        return self.root / "identity.duckdb"

    @property
    def warehouse_db(self) -> Path:
        # The stem "warehouse" is baked into dbt's manifest as the catalog name: never rename it.
        return self.root / "warehouse.duckdb"

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def truth(self) -> Path:
        """Ground truth of a synthetic city. Linkage never reads it; the linkage quality report
        scores against it when it is here (operations.ground_truth), as do tests and benchmarks."""
        return self.root / "truth"

    @property
    def alerts_log(self) -> Path:
        return self.root / "alerts.log"

    @property
    def secret_key_file(self) -> Path:
        return dev_key_file()

    def ensure(self) -> HubPaths:
        """Create the zones (the archive 0700) and check the permission contract:
        ``PermissionError`` naming each path open to others. The identity store is created by
        its first connection, inside ``private_files``."""
        for path in (self.landing, self.public, self.reports):
            path.mkdir(parents=True, exist_ok=True)
        private_dir(self.archive)
        require_private(self)
        return self


def open_to_others(path: Path) -> bool:
    return bool(path.stat().st_mode & OPEN_TO_OTHERS)


def permission_problems(paths: HubPaths) -> list[str]:
    """Every protected path that is group- or world-accessible, or a key in the data directory."""
    problems = []
    identity = [paths.identity_db, paths.identity_db.with_name(paths.identity_db.name + ".wal")]
    archive = [paths.archive, *sorted(paths.archive.rglob("*"))] if paths.archive.exists() else []
    for path in [*identity, *archive, paths.secret_key_file]:
        try:
            if open_to_others(path):
                kind = "directory" if path.is_dir() else "file"
                wanted = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
                problems.append(f"{path}: {kind} is open to other accounts (mode "
                                f"{stat.S_IMODE(path.stat().st_mode):04o}); it must be {wanted:04o} "
                                f"(chmod go-rwx {path})")
        except FileNotFoundError:
            continue
    if paths.secret_key_file.resolve().is_relative_to(paths.root.resolve()):
        problems.append(f"{paths.secret_key_file}: the key file is inside the data directory "
                        f"{paths.root}; keep it outside (HUB_KEY_FILE or {config_dir()})")
    return problems


def require_private(paths: HubPaths) -> None:
    """The start-up check: raise ``PermissionError`` naming each path that breaks the contract."""
    problems = permission_problems(paths)
    if problems:
        raise PermissionError("refusing to start: " + "; ".join(problems))


def data_dir() -> Path:
    return Path(os.environ.get("HUB_DATA_DIR", "data")).resolve()


def hub_paths() -> HubPaths:
    return HubPaths(data_dir())
