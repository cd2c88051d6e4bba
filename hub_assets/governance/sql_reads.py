"""What a piece of compiled SQL touches, read with sqlglot (DuckDB dialect), never by pattern.

:func:`sql_reads` parses every statement and returns one :class:`Touch` per relation it names
(``catalog.schema.table``, quoted or not; CTE names are not relations), per file or external
table function it reads (``read_parquet``, ``read_csv``, ``'file.csv'``, ``query(...)`` ...), and
per statement that reaches outside the warehouse or cannot be judged (``ATTACH``, ``USE``,
``COPY``, ``INSTALL``/``LOAD``, anything sqlglot only knows as a raw command). Write targets
(``create table x``, ``insert into x``) are marked, so a hook may rewrite its own relation and
nothing else. SQL that does not parse is itself a :class:`Touch`: what cannot be read cannot
be allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

# Table functions that read no data (they generate rows); every other table function reads
# something the agreement cannot cover (a file, another database, a query string).
GENERATORS = {"range", "generate_series", "unnest"}
# Statement kinds a model, seed, snapshot or hook may run.
ALLOWED_STATEMENTS = (exp.Query, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Drop,
                      exp.Alter, exp.Comment, exp.Transaction, exp.Commit, exp.Rollback, exp.Analyze)


@dataclass(frozen=True)
class Touch:
    kind: str  # "relation", "file" (file or external table function), "statement", "unparsed"
    parts: tuple[str, ...]  # relation: (catalog, schema, name), any of them "" when unqualified
    text: str  # as written, for messages
    writes: bool = False


def sql_reads(sql: str) -> list[Touch]:
    try:
        statements = [s for s in sqlglot.parse(sql, dialect="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        return [Touch("unparsed", (), f"SQL that does not parse ({str(exc).splitlines()[0][:120]})")]
    touches: list[Touch] = []
    for statement in statements:
        if not isinstance(statement, ALLOWED_STATEMENTS):
            touches.append(Touch("statement", (), f"the {statement.key.upper()} statement "
                                 f"`{statement.sql(dialect='duckdb')[:80]}`"))
        if isinstance(statement, exp.Create) and str(statement.args.get("kind", "")).upper() == "SCHEMA":
            continue
        target = _write_target(statement)
        for table in statement.find_all(exp.Table):
            touches.extend(_touch(table, writes=table is target))
    return touches


def _write_target(statement: exp.Expression) -> exp.Table | None:
    if isinstance(statement, (exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Drop, exp.Alter)):
        target = statement.this
        if isinstance(target, exp.Schema):  # create table x (col type, ...)
            target = target.this
        return target if isinstance(target, exp.Table) else None
    return None


def _touch(table: exp.Table, writes: bool) -> list[Touch]:
    source = table.this
    if not isinstance(source, exp.Identifier):
        if source is None:
            return []
        name = (source.sql_name() if isinstance(source, exp.Func) else source.key).lower()
        if isinstance(source, exp.Anonymous):
            name = str(source.this).lower()
        if name in GENERATORS or isinstance(source, (exp.GenerateSeries, exp.Unnest)):
            return []
        return [Touch("file", (), f"the table function {table.sql(dialect='duckdb')[:120]}")]
    if not table.db and not table.catalog and _is_cte(table):
        return []
    if not table.db and not table.catalog and ("/" in table.name or "." in table.name):
        return [Touch("file", (), f"the file {table.name!r}")]  # DuckDB reads a quoted file name as a table
    parts = (table.catalog.lower(), table.db.lower(), table.name.lower())
    return [Touch("relation", parts, ".".join(p for p in (table.catalog, table.db, table.name) if p), writes)]


def _is_cte(table: exp.Table) -> bool:
    """Whether an unqualified name is a CTE visible where it is used (an enclosing WITH)."""
    name = table.name.lower()
    node = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With) and any(cte.alias.lower() == name for cte in with_.expressions):
            return True
        node = node.parent
    return False
