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
    # The export is the writable main database; the warehouse is attached read-only under its own
    # stem, because dbt's views name their catalog ("warehouse").
    cat = Path(warehouse_db).stem
    con = duckdb.connect(str(out))
    tables, dropped = [], []
    try:
        con.execute(f"ATTACH '{warehouse_db}' AS \"{cat}\" (READ_ONLY)")
        rows = con.execute("select table_schema, table_name from information_schema.tables "
                           "where table_catalog = ? order by all", [cat]).fetchall()
        for schema, table in rows:
            if schema in NEVER_EXPORTED or (schema not in allowed and "*" not in allowed):
                continue
            columns = [c[0] for c in con.execute(f'describe "{cat}"."{schema}"."{table}"').fetchall()]
            kept = [c for c in columns if not token_column(c)]
            dropped += [f"{schema}.{table}.{c}" for c in columns if token_column(c)]
            if not kept:
                continue
            select = ", ".join(f'"{c}"' for c in kept)
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as select {select} from "{cat}"."{schema}"."{table}"')
            tables.append(f"{schema}.{table}")
        con.execute(f'DETACH "{cat}"')
    finally:
        con.close()
    return ExportSummary(out, tables, dropped, audit.sha256_file(out))


def export_for_analysts(data_dir: Path, out: Path) -> tuple[ExportSummary, list]:
    """The ``hub export-analyst`` command: export, prove it clean, audit it.

    A file that fails the identifier scan is deleted, not handed over. The export is audited in
    ``audit.log`` at once and in ``audit.events`` when the warehouse is free (else at the next
    build, which inserts the events the table lacks).
    """
    from hub_assets.privacy.governance import load_governance
    from hub_assets.privacy.identifier_scan import scan_database
    from hub_assets.settings import HubPaths

    paths = HubPaths(Path(data_dir).resolve())
    summary = export_analyst(paths.warehouse_db, out, load_governance())
    hits = scan_database(summary.out, paths.identity_db)
    if hits:
        summary.out.unlink()
        return summary, hits
    audit.append_event(paths.root, "analyst_export", f"{summary.out} ({len(summary.tables)} tables)",
                       approval="role:analyst", digest=summary.digest)
    try:
        with duckdb.connect(str(paths.warehouse_db)) as con:
            audit.sync_table(con, paths.root)
    except duckdb.IOException:
        pass  # a run holds the warehouse: the next build's audit_log asset inserts the event
    return summary, hits
