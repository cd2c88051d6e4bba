"""The linkage tables in the identity zone (identity.duckdb): create, read, write.

- ``linkage_pairs``: scored pairs of record tokens at or above the pair floor;
- ``clusters``: record_token -> cluster_id of the last full re-link;
- ``person_keys``: record_token -> person_key (the answer);
- ``key_events``: merges and splits of person keys (keys.py);
- ``review_queue``: new records that matched more than one existing person (incremental.py);
- ``review_decisions``: a reviewer's answer for a queued record, merge or keep apart (review.py);
- ``refusal_rules``: each refusal rule's mode, anchor test and whether the last full re-link
  applied it (refusals.py; an incremental attach applies the same);
- ``refused_links``: the links a refusal rule kept out of a person, in the last full re-link
  (``run`` = ``full``) and the attaches since (``attach``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from hub_assets.sources.stores import transaction

DDL = {
    "linkage_pairs": "unique_id_l VARCHAR, unique_id_r VARCHAR, match_weight DOUBLE, "
                     "match_probability DOUBLE",
    "clusters": "record_token VARCHAR, cluster_id VARCHAR",
    "person_keys": "record_token VARCHAR PRIMARY KEY, person_key VARCHAR NOT NULL",
    "key_events": "event VARCHAR, before_key VARCHAR, after_key VARCHAR, n_records BIGINT, "
                  '"at" TIMESTAMPTZ',
    "review_queue": "record_token VARCHAR, attached_key VARCHAR, candidate_keys VARCHAR[], "
                    "best_probability DOUBLE, reason VARCHAR, queued_at TIMESTAMPTZ",
    "review_decisions": "record_token VARCHAR, decision VARCHAR, decided_by VARCHAR, note VARCHAR, "
                        "decided_at TIMESTAMPTZ",
    "refusal_rules": 'rule VARCHAR, "mode" VARCHAR, anchor_pairs BIGINT, broken BIGINT, applied BOOLEAN, '
                     '"at" TIMESTAMPTZ',
    "refused_links": "unique_id_l VARCHAR, unique_id_r VARCHAR, match_probability DOUBLE, rule VARCHAR, "
                     'run VARCHAR, "at" TIMESTAMPTZ',
}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in DDL.items():
        con.execute(f"create table if not exists {table} ({columns})")


def read(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    if not table_exists(con, table):
        return pl.DataFrame(schema={c.split()[0].strip('"'): pl.String
                                    for c in DDL[table].split(", ")})
    return con.sql(f"select * from {table}").pl()


def table_exists(con: duckdb.DuckDBPyConnection, table: str, schema: str = "main") -> bool:
    return bool(con.sql(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = ?",
        params=[table, schema]).fetchall()[0][0])


def replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace a table's rows, all or nothing. The table is dropped and created again rather
    than emptied: deleting 435k rows of person_keys and inserting them again costs 7.0 s in its
    primary-key index, against 2.0 s into a new table (1M-row city)."""
    with registered(con, "_hub_frame", frame), transaction(con):
        con.execute(f"drop table if exists {table}")
        con.execute(f"create table {table} ({DDL[table]})")
        _insert(con, table, frame.columns)


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    ensure_tables(con)
    if frame.height == 0:
        return
    with registered(con, "_hub_frame", frame):
        _insert(con, table, frame.columns)


def delete_tokens(con: duckdb.DuckDBPyConnection, table: str, tokens: pl.Series) -> None:
    """Delete the rows of these record tokens (nothing to do, the usual case, costs nothing)."""
    if tokens.len() == 0:
        return
    with registered(con, "_hub_tokens", tokens.rename("record_token").to_frame()):
        con.execute(f"delete from {table} where record_token in (select record_token from _hub_tokens)")


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"insert into {table} ({cols}) select {cols} from _hub_frame")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    con.register(name, frame.to_arrow())
    try:
        yield
    finally:
        con.unregister(name)
