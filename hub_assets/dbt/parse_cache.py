"""dbt's parse, kept between builds of the same warehouse.

Every ``dbt build`` Dagster launches runs in a fresh target folder. dagster-dbt seeds it with the
project's ``target/partial_parse.msgpack``, but dbt discards a partial parse made for another
connection profile, and the profile names the warehouse file: a parse made by ``dbt parse`` (or
for another data dir) is thrown away and the project is parsed in full again, about 10 s of the
dbt stage on this machine. So after each build its parse is kept per warehouse, and the next build
on that warehouse starts from it. dbt still checks every file's checksum, so a kept parse from an
older project is only a head start, never stale.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from hub_assets.dbt.project import dbt_project

PARTIAL_PARSE = "partial_parse.msgpack"
KEPT_DIR = dbt_project.project_dir / dbt_project.target_path / "partial_parse"
KEEP_WAREHOUSES = 20  # parses kept (about 1.3 MB each); test runs make a warehouse per temp dir
# Each build's own target folder (manifest, run results, compiled SQL: ~5 MB) is kept for looking
# into a recent build; older ones are removed, or a nightly hub fills its disk with them.
KEEP_RUN_FOLDERS = 10
RUN_FOLDER_PREFIX = "hub_dbt_models-"


def run_target_path(run_id: str) -> Path:
    """A target folder of its own for one dbt invocation (as dagster-dbt would make one)."""
    return dbt_project.project_dir / dbt_project.target_path / f"{RUN_FOLDER_PREFIX}{run_id[:8]}-{uuid.uuid4().hex[:6]}"


def kept_parse(warehouse: Path) -> Path:
    digest = hashlib.sha256(str(Path(warehouse).resolve()).encode()).hexdigest()[:16]
    return KEPT_DIR / f"{digest}.msgpack"


def seed(target_path: Path, warehouse: Path) -> bool:
    """Start a build's target folder from the parse kept for this warehouse, if there is one."""
    kept = kept_parse(warehouse)
    if not kept.exists():
        return False
    target_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept, target_path / PARTIAL_PARSE)
    return True


def keep(target_path: Path, warehouse: Path) -> bool:
    """Keep the parse a build wrote, replacing the previous one atomically (builds may overlap)."""
    made = target_path / PARTIAL_PARSE
    if not made.exists():
        return False
    kept = kept_parse(warehouse)
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    shutil.copyfile(made, partial)
    os.replace(partial, kept)
    _prune(kept.parent)
    return True


def _prune(folder: Path) -> None:
    """Forget the parses of the warehouses built least recently."""
    kept = sorted(folder.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP_WAREHOUSES:]:
        old.unlink(missing_ok=True)  # another build may have pruned it already


def prune_run_folders(keep: int = KEEP_RUN_FOLDERS, root: Path | None = None) -> list[Path]:
    """Remove all but the ``keep`` newest per-build target folders; returns what was removed."""
    root = root or dbt_project.project_dir / dbt_project.target_path
    folders = sorted((p for p in root.glob(f"{RUN_FOLDER_PREFIX}*") if p.is_dir()),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)  # another build may be pruning too
    return folders[keep:]
