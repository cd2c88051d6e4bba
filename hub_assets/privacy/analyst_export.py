"""The analyst hand-over: a DuckDB file holding just the schemas the analyst role may read.

Which schemas comes from ``governance.yaml`` (``roles.analyst.schemas``; by default staging,
intermediate, marts, spine, public). Never the identity zone (a separate file that is not even
opened) and never ``raw`` or ``audit``. Record-token columns (``record_token``,
``<role>_record_token``) are dropped too: a token is the key back into the identity zone, and
analysts work with person keys. Views are materialised as tables so the file stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from hub_assets.privacy import audit
from hub_assets.privacy.governance import Governance

NEVER_EXPORTED = {"raw", "audit", "information_schema", "pg_catalog"}


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    tables: list[str]
    dropped_columns: list[str]
    digest: str


def token_column(name: str) -> bool:
    return name == "record_token" or name.endswith("_record_token")


def export_analyst(warehouse_db: Path, out: Path, governance: Governance) -> ExportSummary:
    allowed = set(governance.schemas_for("analyst")) - NEVER_EXPORTED
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists: an export is written once; choose a new file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_db), read_only=True)
    tables, dropped = [], []
    try:
        con.execute(f"ATTACH '{out}' AS analyst_export")
        rows = con.execute("select table_schema, table_name from information_schema.tables "
                           "where table_catalog = ? order by all", [Path(warehouse_db).stem]).fetchall()
        for schema, table in rows:
            if schema not in allowed and "*" not in allowed:
                continue
            if schema in NEVER_EXPORTED:
                continue
            columns = [c[0] for c in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            kept = [c for c in columns if not token_column(c)]
            dropped += [f"{schema}.{table}.{c}" for c in columns if token_column(c)]
            select = ", ".join(f'"{c}"' for c in kept)
            con.execute(f'create schema if not exists analyst_export."{schema}"')
            con.execute(f'create table analyst_export."{schema}"."{table}" as '
                        f'select {select} from "{schema}"."{table}"')
            tables.append(f"{schema}.{table}")
        con.execute("DETACH analyst_export")
    finally:
        con.close()
    return ExportSummary(out, tables, dropped, audit.sha256_file(out))
