"""A short, human summary of what is in each zone: row counts and where the outputs are."""

from __future__ import annotations

import duckdb

from hub_assets.settings import HubPaths


def table_counts(db_path, schemas: tuple[str, ...]) -> list[tuple[str, int]]:
    if not db_path.exists():
        return []
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.IOException as exc:  # another process holds the write lock
        return [(f"(not readable now: {exc})", 0)]
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) order by 1, 2", [list(schemas)]
        ).fetchall()
        return [(f"{s}.{t}", con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0])
                for s, t in tables]
    finally:
        con.close()


def hub_summary(paths: HubPaths) -> str:
    lines = ["", "Identity zone  " + str(paths.identity_db)]
    for name, n in table_counts(paths.identity_db, ("main",)):
        if name in ("main.drops", "main.records", "main.quarantine", "main.person_keys"):
            lines.append(f"  {name:<45} {n:>10,}")
    lines.append("Warehouse      " + str(paths.warehouse_db))
    for name, n in table_counts(paths.warehouse_db, ("raw", "spine", "marts", "public")):
        lines.append(f"  {name:<45} {n:>10,}")
    public_files = sorted(p for p in paths.public.rglob("*") if p.is_file())
    lines.append(f"Public zone    {paths.public}  ({len(public_files)} files)")
    findings = paths.public / "findings" / "index.html"
    if findings.exists():
        lines.append(f"  findings page: {findings}")
    lines.append(f"Reports        {paths.reports}")
    return "\n".join(lines)
