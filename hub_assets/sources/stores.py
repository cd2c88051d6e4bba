"""Intake's tables in the identity store and the warehouse, and the writes that keep them whole.

Identity zone: ``drops`` (the intake registry), ``records`` (standard identity), ``identifiers``
(agency-assigned content identifiers and their tokens), ``quarantine`` and the ``current_records``
view. Warehouse: ``raw.<agency>``, typed from the declaration, keyed by tokens only (record,
identifier, drop and row tokens). Each store is written in one transaction per step, and a drop is
only marked accepted once both stores hold it, so a failure leaves neither holding it (see
``ingest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from hub_assets.sources.declaration import AgencySource

DROPS_DDL = """
create table if not exists drops (
    drop_id varchar not null, agency varchar not null, file_name varchar not null,
    sha256 varchar not null, size_bytes bigint, version integer, supersedes varchar,
    received_at timestamp, rows_received bigint, rows_accepted bigint, rows_quarantined bigint,
    status varchar not null,  -- loading | accepted | superseded | rejected | withdrawn
    problem varchar,  -- why a drop was rejected or withdrawn
    primary key (agency, drop_id))
"""
RECORDS_DDL = """
create table if not exists records (
    record_token varchar not null, source varchar not null, record_id varchar not null,
    first_name varchar, middle_name varchar, last_name varchar, dob date, sex varchar,
    address varchar, zip varchar, race_ethnicity varchar, drop_id varchar not null,
    loaded_at timestamp, ssn varchar)
"""
IDENTIFIERS_DDL = """
create table if not exists identifiers (
    agency varchar not null, column_name varchar not null, value varchar not null, token varchar,
    drop_id varchar not null)
"""
QUARANTINE_DDL = """
create table if not exists quarantine (
    agency varchar not null, drop_id varchar not null, file_name varchar not null,
    row_number bigint, column_name varchar, value_class varchar, rule varchar not null,
    raw_row json)
"""
# What linkage reads: each (source, record_id)'s row from the latest accepted drop.
CURRENT_RECORDS_VIEW = """
create or replace view current_records as
select * exclude (_rank) from (
    select r.*, row_number() over (
        partition by r.source, r.record_id order by d.received_at desc, r.loaded_at desc, r.drop_id desc
    ) as _rank
    from records r join drops d on d.drop_id = r.drop_id and d.status = 'accepted'
) where _rank = 1
"""

SQL_TYPES = {"str": "varchar", "int": "bigint", "float": "double", "date": "date", "bool": "boolean"}


def ensure_identity_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in (DROPS_DDL, RECORDS_DDL, IDENTIFIERS_DDL, QUARANTINE_DDL):
        con.execute(ddl)
    # Identity stores made before SSNs were declared gain the column (null for their records).
    con.execute("alter table records add column if not exists ssn varchar")
    # Registries made before rejections kept their reason gain the column.
    con.execute("alter table drops add column if not exists problem varchar")
    con.execute(CURRENT_RECORDS_VIEW)


def raw_table(source: AgencySource) -> str:
    return f"raw.{source.name}"


def warehouse_columns(source: AgencySource) -> dict[str, str]:
    cols = {block.token_column: "varchar" for block in source.identities}
    cols |= {"drop_token": "varchar", "row_token": "varchar", "loaded_at": "timestamp"}
    cols |= {c.warehouse_name: SQL_TYPES[c.type] for c in source.warehouse_content}
    cols |= {"race_ethnicity": "varchar", "neighbourhood": "varchar"}
    return cols


def ensure_raw_table(con: duckdb.DuckDBPyConnection, source: AgencySource) -> None:
    con.execute("create schema if not exists raw")
    cols = ", ".join(f"{name} {sql_type}" for name, sql_type in warehouse_columns(source).items())
    con.execute(f"create table if not exists {raw_table(source)} ({cols})")
    held = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [source.name],
        ).fetchall()
    }
    if "drop_id" in held and "drop_token" not in held:
        # A table from before identifiers were tokenised: its drop IDs, row numbers and agency
        # IDs cannot stay, and its rows cannot be re-keyed without the archive.
        raise RuntimeError(
            f"agency {source.name}: {raw_table(source)} holds drop IDs and agency "
            "identifiers (written before they were tokenised); rebuild the warehouse "
            "from the archive"
        )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's writes, or none of them."""
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _placeholders(values: list) -> str:
    return ", ".join("?" for _ in values)


def write_identity(
    con: duckdb.DuckDBPyConnection,
    agency: str,
    drop_id: str,
    drop_row: dict,
    records: pl.DataFrame,
    quarantine: pl.DataFrame,
    identifiers: pl.DataFrame | None = None,
) -> None:
    """Replace this drop's identity rows and registry entry, in one transaction. The caller has
    run ``ensure_identity_tables`` on ``con`` (once per batch: it costs a catalog write)."""
    with transaction(con):
        delete_identity(con, agency, [drop_id], keep_registry=False)
        con.register("records_df", records)
        con.execute("insert into records by name select * from records_df")
        if identifiers is not None and identifiers.height:
            con.register("identifiers_df", identifiers)
            con.execute("insert into identifiers by name select * from identifiers_df")
        con.register("quarantine_df", quarantine)
        con.execute("insert into quarantine by name select * from quarantine_df")
        con.execute(
            f"insert into drops ({', '.join(drop_row)}) values ({_placeholders(list(drop_row))})",
            list(drop_row.values()),
        )


def delete_identity(con: duckdb.DuckDBPyConnection, agency: str, drop_ids: list[str], keep_registry: bool) -> None:
    """Delete drops' identity rows (records of every identity block, quarantine), and their
    registry rows unless ``keep_registry``. Runs inside the caller's transaction."""
    if not drop_ids:
        return
    marks = _placeholders(drop_ids)
    con.execute(
        f"delete from records where drop_id in ({marks}) and (source = ? or source like ?)",
        [*drop_ids, agency, f"{agency}\\_%"],
    )
    con.execute(f"delete from quarantine where agency = ? and drop_id in ({marks})", [agency, *drop_ids])
    con.execute(f"delete from identifiers where agency = ? and drop_id in ({marks})", [agency, *drop_ids])
    if not keep_registry:
        con.execute(f"delete from drops where agency = ? and drop_id in ({marks})", [agency, *drop_ids])


def write_warehouse(
    con: duckdb.DuckDBPyConnection, source: AgencySource, drop_tokens_out: list[str], content: pl.DataFrame
) -> None:
    """Delete the given drops' rows (this drop and the versions it supersedes, by drop token) and
    insert this drop's content, in one transaction. The caller has run ``ensure_raw_table``."""
    with transaction(con):
        con.execute(
            f"delete from {raw_table(source)} where drop_token in ({_placeholders(drop_tokens_out)})", drop_tokens_out
        )
        con.register("content_df", content)
        con.execute(f"insert into {raw_table(source)} by name select * from content_df")


def finish_identity(con: duckdb.DuckDBPyConnection, agency: str, drop_id: str, superseded: list[str]) -> None:
    """Mark the drop accepted and remove the versions it supersedes, in one transaction."""
    with transaction(con):
        delete_identity(con, agency, superseded, keep_registry=True)
        if superseded:
            con.execute(
                f"update drops set status = 'superseded' where agency = ? and drop_id in ({_placeholders(superseded)})",
                [agency, *superseded],
            )
        con.execute("update drops set status = 'accepted' where agency = ? and drop_id = ?", [agency, drop_id])


def record_rejection(con: duckdb.DuckDBPyConnection, agency: str, drop_row: dict) -> None:
    """Register a rejected drop (no rows anywhere), replacing any earlier attempt's rows.
    The caller has run ``ensure_identity_tables`` on ``con``."""
    with transaction(con):
        delete_identity(con, agency, [drop_row["drop_id"]], keep_registry=False)
        con.execute(
            f"insert into drops ({', '.join(drop_row)}) values ({_placeholders(list(drop_row))})",
            list(drop_row.values()),
        )


def registered(con: duckdb.DuckDBPyConnection, agency: str) -> pl.DataFrame:
    """The agency's rows of the intake registry. The caller has run ``ensure_identity_tables``."""
    return con.sql("select * from drops where agency = ? order by drop_id", params=[agency]).pl()
