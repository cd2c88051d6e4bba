"""The previous release of a use case's public tables, as an attacker holding every release has it.

A release is protected and audited against the release before it (``protect``). The tables of the
previous release are the ``public/<use_case>/<mart>.parquet`` files written before this release
started; a table this release has already replaced is read from the copy kept aside, in
``public/<use_case>/.previous/<mart>.parquet``, just before it was overwritten. So every table of a
release is protected against the same previous release, whichever is written first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

PREVIOUS_DIR = ".previous"


def keep_previous(public_dir: Path, use_case: str, name: str, release_started: float) -> None:
    """Set the table's file aside before this release replaces it (once: the first write wins)."""
    current = Path(public_dir) / use_case / f"{name}.parquet"
    if current.exists() and current.stat().st_mtime < release_started:
        kept = current.parent / PREVIOUS_DIR / current.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(current, kept)


def previous_tables(public_dir: Path, use_case: str, names: list[str], release_started: float) -> dict[str, pl.DataFrame]:
    """{mart: the table the previous release published}, for the marts that had one."""
    out = {}
    for name in names:
        current = Path(public_dir) / use_case / f"{name}.parquet"
        kept = current.parent / PREVIOUS_DIR / current.name
        if current.exists() and current.stat().st_mtime < release_started:
            out[name] = pl.read_parquet(current)
        elif kept.exists():
            out[name] = pl.read_parquet(kept)
    return out


def last_kept(public_dir: Path, use_case: str, names: list[str]) -> dict[str, pl.DataFrame]:
    """{mart: the table set aside when the current one replaced it}: the release before the current."""
    folder = Path(public_dir) / use_case / PREVIOUS_DIR
    return {n: pl.read_parquet(folder / f"{n}.parquet") for n in names if (folder / f"{n}.parquet").exists()}


STAGED_DIR = ".staged"


def staged_release(public_dir: Path, use_case: str, run_id: str, names: list[str]) -> tuple[dict[str, pl.DataFrame], dict] | None:
    """The use case's tables as this run protected them, if an earlier step of the run already did."""
    folder = Path(public_dir) / use_case / STAGED_DIR / run_id
    if not all((folder / f"{n}.parquet").exists() for n in names) or not (folder / "audit.json").exists():
        return None
    return {n: pl.read_parquet(folder / f"{n}.parquet") for n in names}, json.loads((folder / "audit.json").read_text())


def stage_release(public_dir: Path, use_case: str, run_id: str, tables: dict[str, pl.DataFrame], audit: dict) -> None:
    """Keep this run's protected tables for its other steps (one protection per use case and run);
    other runs' staged tables are removed."""
    root = Path(public_dir) / use_case / STAGED_DIR
    if root.exists():
        for old in root.iterdir():
            if old.name != run_id:
                shutil.rmtree(old, ignore_errors=True)
    folder = root / run_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.write_parquet(folder / f"{name}.parquet")
    (folder / "audit.json").write_text(json.dumps(audit))  # written last: its presence marks the set complete
