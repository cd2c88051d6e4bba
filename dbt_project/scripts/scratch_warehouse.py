"""A scratch warehouse for developing and testing the dbt project without the rest of the hub.

Creates ``raw.<agency>`` for every declared agency (columns generated from the declarations,
as intake writes them) and the ``spine`` tables, empty or with the rows you give. Tests plant
small, purpose-built rows through :func:`insert`; from the shell it makes an empty warehouse:

    HUB_DATA_DIR=/tmp/hubdev .venv/bin/python dbt_project/scripts/scratch_warehouse.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from hub_assets.sources.declaration import load_agencies  # noqa: E402
from hub_assets.sources.stores import warehouse_columns  # noqa: E402

SPINE_TABLES = {
    "person_crosswalk": {"record_token": "VARCHAR", "person_key": "VARCHAR", "source": "VARCHAR"},
    "person_spine": {
        "person_key": "VARCHAR", "birth_year": "INTEGER", "birth_month": "INTEGER", "sex": "VARCHAR",
        "race_ethnicity": "VARCHAR", "neighbourhood": "VARCHAR", "first_seen": "DATE",
        "last_seen": "DATE", "systems": "VARCHAR[]", "n_records": "BIGINT",
    },
}


def raw_columns() -> dict[str, dict[str, str]]:
    """Column name -> DuckDB type of every raw.<agency> table, as intake writes them."""
    return {agency.name: warehouse_columns(agency) for agency in load_agencies()}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for schema, tables in (("raw", raw_columns()), ("spine", SPINE_TABLES)):
        con.execute(f"create schema if not exists {schema}")
        for table, cols in tables.items():
            body = ", ".join(f'"{name}" {type_}' for name, type_ in cols.items())
            con.execute(f"create or replace table {schema}.{table} ({body})")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert rows (dicts; missing columns are null) into ``schema.table``."""
    if not rows:
        return
    schema, name = table.split(".")
    columns = (raw_columns()[name] if schema == "raw" else SPINE_TABLES[name]).keys()
    unknown = {k for row in rows for k in row} - set(columns)
    if unknown:
        raise ValueError(f"{table}: no such columns {sorted(unknown)}")
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({placeholders})",
        [[row.get(c) for c in columns] for row in rows],
    )


def create_scratch_warehouse(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        create_tables(con)
    return path


if __name__ == "__main__":
    root = Path(os.environ.get("HUB_DATA_DIR", REPO / "data")).resolve()
    print(f"created {create_scratch_warehouse(root / 'warehouse.duckdb')}")
