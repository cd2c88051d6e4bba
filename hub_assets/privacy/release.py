"""Writing a suppressed table to the public zone: the warehouse table ``public.<mart>``, the files
``public/<use_case>/<mart>.csv`` and ``.parquet``, and the use case's ``data_dictionary.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hub_assets.privacy.audit import sha256_file
from hub_assets.privacy.formula import neutralise_formulas
from hub_assets.privacy.manifest import PublishedMart
from hub_assets.privacy.margins import TOTAL


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


def write_files(public_dir: Path, mart: PublishedMart, table: pl.DataFrame) -> Release:
    folder = Path(public_dir) / mart.use_case
    folder.mkdir(parents=True, exist_ok=True)
    csv, parquet = folder / f"{mart.name}.csv", folder / f"{mart.name}.parquet"
    neutralise_formulas(table).write_csv(csv)  # spreadsheets must not run a published value
    table.write_parquet(parquet)
    flags = [c for c in table.columns if c.endswith("_suppressed")]
    hidden = int(sum(table[c].sum() for c in flags)) if flags else 0
    return Release([csv, parquet], sha256_file(csv), table.height, hidden)


def write_data_dictionary(public_dir: Path, use_case: str, marts: list[PublishedMart], threshold: int) -> Path:
    """One dictionary per use case, covering every table it publishes."""
    folder = Path(public_dir) / use_case
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {use_case}: public tables", "",
             f"Every count from 1 to {threshold} is suppressed (shown empty, with `<column>_suppressed` "
             "= true); zero is shown. Further cells are suppressed where a hidden one could otherwise "
             "be worked out from the totals. A rate is suppressed when its numerator or denominator is. "
             f"Rows whose dimension says `{TOTAL}` are totals over that dimension, summed before "
             "suppression.", ""]
    for mart in sorted(marts, key=lambda m: m.name):
        lines += [f"## {mart.name}", "", mart.description or "", "",
                  "| column | meaning | suppression rule |", "|---|---|---|"]
        spec = mart.spec
        for dim in spec.dimensions:
            total = f"; `{TOTAL}` = all" if dim in spec.totalled or dim in spec.labels else ""
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
