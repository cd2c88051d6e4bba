"""Writing a public release: every public table, the data dictionaries and the findings page of
one release, made visible together or not at all.

A release is built in a staging folder ``public/releases/.staging-<id>/`` (tables as
``<use_case>/<mart>.csv|parquet``, each use case's ``data_dictionary.md``, ``findings/index.html``
and ``release.json``), renamed to ``public/releases/<id>/`` once complete, and published by
switching the symlink ``public/current`` to it in one ``rename`` — a reader sees the old release
or the new one, never a mix. ``public/<use_case>`` and ``public/findings`` are fixed symlinks into
``current``, so ``public/<use_case>/<mart>.csv`` always reads the current release. Earlier
releases stay under ``public/releases/`` (read by ``load_previous_release``). The warehouse
schema ``public`` holds the current release's tables for the checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.attack import Thresholds, threshold_of
from hub_assets.disclosure.formula import neutralise_formulas
from hub_assets.disclosure.margins import ALL, TOTAL
from hub_assets.disclosure.release_audit import Publication
from hub_assets.governance.audit import sha256_file

RELEASES = "releases"
CURRENT = "current"
FINDINGS = "findings"
RELEASE_FILE = "release.json"


@dataclass(frozen=True)
class Release:
    files: list[Path]
    digest: str  # sha256 of the CSV, the canonical released content
    rows: int
    suppressed_cells: int


def write_public_table(con: duckdb.DuckDBPyConnection, name: str, table: pl.DataFrame) -> None:
    con.execute("create schema if not exists public")
    con.register("public_release", table.to_arrow())
    try:
        con.execute(f'create or replace table public."{name}" as select * from public_release')
    finally:
        con.unregister("public_release")


def read_public_table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return pl.from_arrow(con.sql(f'select * from public."{name}"').to_arrow_table())


def write_files(folder: Path, mart: PublishedMart, table: pl.DataFrame) -> Release:
    """``<folder>/<use_case>/<mart>.csv`` and ``.parquet`` (``folder``: a release being staged)."""
    folder = Path(folder) / mart.use_case
    folder.mkdir(parents=True, exist_ok=True)
    csv, parquet = folder / f"{mart.name}.csv", folder / f"{mart.name}.parquet"
    neutralise_formulas(table).write_csv(csv)  # spreadsheets must not run a published value
    table.write_parquet(parquet)
    flags = [c for c in table.columns if c.endswith("_suppressed")]
    hidden = int(sum(table[c].sum() for c in flags)) if flags else 0
    return Release([csv, parquet], sha256_file(csv), table.height, hidden)


def release_digest(releases: dict[str, Release]) -> str:
    """One digest for the whole release: the tables' names and CSV digests, in name order."""
    return hashlib.sha256("\n".join(f"{n} {r.digest}" for n, r in sorted(releases.items())).encode()).hexdigest()


def meaning_changes(rounding_base: int) -> list[str]:
    """One sentence per protection that changes what a shown figure means (``rounding``)."""
    if rounding_base <= 1:
        return []
    return [f"Every count shown is rounded to the nearest {rounding_base}, so that no two releases can be "
            "subtracted to reveal a few people: a count shown as 15 means between "
            f"{15 - (rounding_base - 1) // 2} and {15 + (rounding_base - 1) // 2}. Rounded counts need not add up "
            "exactly to their rounded total, and rates are worked out from the rounded counts."]


def plain_words(thresholds: Thresholds, changes: Sequence[str] = ()) -> list[str]:
    """What a reader must know before using a published figure: when a number shown is not the
    plain count, in plain words. ``thresholds``: one for every table, or each table's by name (a
    table held to a stricter one is named, with its threshold). ``changes``: one sentence per
    protection that alters the figures that are shown (``meaning_changes``)."""
    by_table = {} if isinstance(thresholds, int) else dict(thresholds)
    threshold = thresholds if isinstance(thresholds, int) else min(by_table.values(), default=0)
    return [
        f"A count from 1 to {threshold} people is never shown: the cell is empty and marked "
        "suppressed. Some larger counts are suppressed too, so that a hidden one cannot be worked "
        "out from the others. A suppressed cell is not zero; zero is shown as 0.",
        *stricter_words(by_table, threshold),
        "A rate is suppressed when the count above it or below it is.",
        f"A row marked {TOTAL} adds up the rows beside it: it is used only where each person "
        "belongs to exactly one of them.",
        f"A row marked {ALL} counts each person once, across groups a person can belong to "
        "several of (several schools, several providers): it is usually less than the sum of "
        "the rows beside it.",
        *changes,
    ]


def stricter_words(thresholds: Mapping[str, int], threshold: int) -> list[str]:
    """One sentence per threshold above ``threshold``, naming the tables held to it: their lineage
    reaches a source under a stricter rule (``governance.yaml`` ``source_rules``)."""
    stricter: dict[int, list[str]] = {}
    for name, value in sorted(thresholds.items()):
        if value > threshold:
            stricter.setdefault(value, []).append(name)
    return [f"{'The table' if len(names) == 1 else 'The tables'} {_listed(names)} "
            f"{'draws' if len(names) == 1 else 'draw'} on records the law protects more strictly "
            f"(such as behavioural-health and substance-use treatment records): there a count from 1 to {value} "
            "people is never shown." for value, names in sorted(stricter.items())]


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def write_data_dictionary(folder: Path, use_case: str, marts: list[PublishedMart], thresholds: Thresholds,
                          changes: Sequence[str] = ()) -> Path:
    """One dictionary per use case, covering every table it publishes, each with its own
    threshold (``thresholds``: one for all, or each table's by name)."""
    folder = Path(folder) / use_case
    folder.mkdir(parents=True, exist_ok=True)
    own = thresholds if isinstance(thresholds, int) else {m.name: threshold_of(thresholds, m.name) for m in marts}
    lines = [f"# {use_case}: public tables", "", "## How to read these figures", "",
             *(f"- {sentence}" for sentence in plain_words(own, changes)), ""]
    for mart in sorted(marts, key=lambda m: m.name):
        threshold = threshold_of(thresholds, mart.name)
        lines += [f"## {mart.name}", "", mart.description or "", "",
                  "| column | meaning | suppression rule |", "|---|---|---|"]
        spec = mart.spec
        for dim in spec.dimensions:
            total = (f"; `{TOTAL}` = the sum over it" if dim in spec.totalled
                     else f"; groups overlap, never summed (`{ALL}`, where shown, counts each person once)"
                     if dim in spec.overlapping
                     else f"; `{TOTAL}` = all" if dim in spec.labels else "")
            lines.append(f"| {dim} | {_meaning(mart, dim, 'grouping')} | never suppressed{total} |")
        for count in spec.counts:
            lines.append(f"| {count} | {_meaning(mart, count, 'count of people')} | empty when 1-{threshold} "
                         "or when needed to protect another cell |")
            lines.append(f"| {count}_suppressed | true when {count} is suppressed | - |")
        for rate, num, den in spec.rates:
            lines.append(f"| {rate} | {_meaning(mart, rate, f'{num} / {den}')} | empty when {num} or "
                         f"{den} is suppressed |")
            lines.append(f"| {rate}_suppressed | true when {rate} is suppressed | - |")
        lines.append("")
    path = folder / "data_dictionary.md"
    path.write_text("\n".join(lines))
    return path


def _meaning(mart: PublishedMart, column: str, fallback: str) -> str:
    return (mart.column_descriptions.get(column) or fallback).replace("|", "/").replace("\n", " ")


# --- staging, switching and reading releases ----------------------------------------------------

def stage_release(public_dir: Path, release_id: str) -> Path:
    """A fresh, empty staging folder for release ``release_id`` (a leftover of a failed attempt is
    removed: it was never published)."""
    staging = Path(public_dir) / RELEASES / f".staging-{release_id}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


@dataclass(frozen=True)
class Staged:
    folder: Path
    tables: dict[str, Release]  # by mart name
    digest: str  # of the whole release


def stage_tables(public_dir: Path, release_id: str, tables: Sequence[tuple[PublishedMart, pl.DataFrame]],
                 thresholds: Thresholds, changes: Sequence[str], agreements: dict[str, str],
                 rounding_base: int) -> Staged:
    """Every public table, each use case's data dictionary and ``release.json`` (with the
    thresholds and rounding base the tables were published with: the next release's audit reads
    them so; ``min_cell_size`` is the release's lowest, each table's own is under ``tables``), in
    a new staging folder (removed again if writing fails)."""
    staging = stage_release(public_dir, release_id)
    try:
        written = {mart.name: write_files(staging, mart, table) for mart, table in tables}
        marts = [mart for mart, _ in tables]
        for use_case in sorted({m.use_case for m in marts}):
            write_data_dictionary(staging, use_case, [m for m in marts if m.use_case == use_case], thresholds,
                                  changes)
        digest = release_digest(written)
        previous = current_release(public_dir)
        own = {m.name: threshold_of(thresholds, m.name) for m in marts}
        lowest = thresholds if isinstance(thresholds, int) else min(own.values(), default=0)
        record = {"release_id": release_id, "previous_release": previous.name if previous else None,
                  "digest": digest, "min_cell_size": lowest, "rounding_base": rounding_base,
                  "agreements": agreements,
                  "tables": {m.name: {"use_case": m.use_case, "sha256": written[m.name].digest,
                                      "rows": written[m.name].rows, "min_cell_size": own[m.name],
                                      "suppressed_cells": written[m.name].suppressed_cells} for m in marts}}
        (staging / RELEASE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True))
    except BaseException:
        discard(staging)
        raise
    return Staged(staging, written, digest)


def discard(staging: Path) -> None:
    """Remove a staging folder that will not be switched in."""
    shutil.rmtree(staging, ignore_errors=True)


def switch_to(public_dir: Path, staging: Path, release_id: str) -> Path:
    """Make the staged release the current one, atomically; returns its folder."""
    public_dir = Path(public_dir)
    final = public_dir / RELEASES / release_id
    staging.rename(final)  # immutable from here on
    for entry in sorted(p.name for p in final.iterdir() if p.is_dir()):
        _link(public_dir / entry, Path(CURRENT) / entry)  # may dangle until the switch below
    _link(public_dir / CURRENT, Path(RELEASES) / release_id)
    return final


def _link(path: Path, target: Path) -> None:
    """Point symlink ``path`` at ``target`` with one rename (a directory left by an older layout
    that wrote tables straight into ``public/<use_case>/`` is removed first)."""
    if path.is_symlink() and Path(os.readlink(path)) == target:
        return
    if path.exists() and not path.is_symlink():
        shutil.rmtree(path)
    tmp = path.with_name(f".{path.name}.switch")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target, target_is_directory=True)
    os.replace(tmp, path)


def current_release(public_dir: Path) -> Path | None:
    """The folder of the release now public, or None before the first."""
    current = Path(public_dir) / CURRENT
    return current.resolve() if current.is_dir() else None


def load_previous_release(public_dir: Path) -> dict[str, pl.DataFrame]:
    """The tables of the release now public (the one a new release follows), by mart name."""
    return _tables(current_release(public_dir))


def load_release_before_current(public_dir: Path) -> dict[str, pl.DataFrame]:
    """The tables of the release the current one followed (what the current one was audited
    against), by mart name; empty when the current release is the first."""
    return _tables(_before_current(public_dir))


def _before_current(public_dir: Path) -> Path | None:
    current = current_release(public_dir)
    record = json.loads((current / RELEASE_FILE).read_text()) if current else {}
    before = record.get("previous_release")
    return Path(public_dir) / RELEASES / before if before else None


def publication_of(folder: Path | None, thresholds: Thresholds) -> Publication | None:
    """How the release in ``folder`` was published, from its ``release.json``: its threshold, and
    each table's where it recorded them (a release that recorded one number held every table to
    it; one that recorded none is read at ``thresholds``, with no recorded base); None when there
    is no release."""
    if folder is None or not (folder / RELEASE_FILE).is_file():
        return None
    record = json.loads((folder / RELEASE_FILE).read_text())
    base = record.get("rounding_base")
    if "min_cell_size" not in record:
        if isinstance(thresholds, int):
            return Publication(thresholds, base)
        return Publication(min(thresholds.values(), default=0), base, dict(thresholds))
    own = {name: int(table["min_cell_size"]) for name, table in (record.get("tables") or {}).items()
           if "min_cell_size" in table}
    return Publication(int(record["min_cell_size"]), base, own)


def current_publication(public_dir: Path, thresholds: Thresholds) -> Publication | None:
    """How the release now public was published (what a new release is audited against)."""
    return publication_of(current_release(public_dir), thresholds)


def publication_before_current(public_dir: Path, thresholds: Thresholds) -> Publication | None:
    """How the release before the current one was published."""
    return publication_of(_before_current(public_dir), thresholds)


def _tables(folder: Path | None) -> dict[str, pl.DataFrame]:
    if folder is None or not folder.is_dir():
        return {}
    return {path.stem: pl.read_parquet(path) for path in sorted(folder.glob("*/*.parquet"))}
