"""Proof that no identifier left the identity zone: scan every table of a store for identifier
columns and identifier values.

- Column names: names, dates of birth (``birth_year``/``birth_month`` are allowed), addresses,
  streets, phones, SSNs, record IDs, and every identifier column the declarations name
  (``declaration.identifier_column_names``: identity blocks, agency-assigned content IDs such as
  enrollment, household, registration and employer IDs, and the drop ID and row number).
- Values, taken from the identity zone's ``records``, ``identifiers`` and ``drops``: agency
  record IDs, agency-assigned content IDs, drop IDs, SSNs (with or without dashes) and
  addresses anywhere as a
  whole value; first/last names (4+ letters) as whole values, when a column holds several of them
  or holds the name of the very record the row is keyed by; full dates of birth (as dates or
  strings) in a row keyed by that record's token or person key.

The scan runs in a throwaway in-memory DuckDB with both stores attached read-only, so it never
copies identifiers anywhere. Public files (CSV/parquet) are scanned as tables of their own.

Key columns (record tokens, person keys, episode IDs: lower-case hex, 16-64 digits) are half of
the text a warehouse holds. A key-named column whose every value has that shape cannot hold an
identity value, nor a date or a name, unless some identity value has the shape too: the scan
checks the shape (one pass) instead of matching every key against the identity values, and
when any identity value is key-shaped it matches every column as before. A text column is
compared with its own row's record only if some value of it is an identity name or has a date's
shape (found in the same pass as the value matches). Tables are scanned two at a time, each on
its own cursor.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hub_assets.sources.declaration import OMB_RACE_ETHNICITY, identifier_column_names, load_agencies, snake_case

IDENTIFIER_NAME_PATTERNS = [
    r"^name$", r"^(fname|lname)$", r"(^|_)(first|last|middle|full|given|family|maiden|sur|birth)_?name$",
    r"(^|_)surname$", r"(^|_)dob$", r"(^|_)(birth_?date|date_of_birth|birth_dt)$",
    r"(^|_)address(_line)?(_?\d)?$", r"^street(_address|_name|_number|_line)?$", r"_street$",
    r"(^|_)(phone|telephone|mobile)(_number|_no)?$", r"(^|_)ssn$", r"(^|_)record_id$",
]
ALLOWED_NAMES = {"birth_year", "birth_month"}
NAME_HIT_MIN_VALUES = 3  # a column holding this many distinct identity names ...
NAME_HIT_MIN_SHARE = 0.3
# A service can fall on a birth date (a newborn removed at birth, a baby added to a housing
# household the day it is born): at 100k records a few such rows per million are real events.
# A date column leaks birth dates when a real share of its rows hold their own record's DOB.
DOB_HIT_MIN_SHARE = 0.05  # ... making up this share of its distinct values is a column of names
KEY_SHAPE = "[0-9a-f]{16,64}"  # record tokens (64), episode IDs (32), person keys (16)
KEY_NAME_SUFFIXES = ("_key", "_token", "_id")
SCAN_THREADS = 2  # tables scanned at once; each query is parallel too, but a small one is not


@dataclass(frozen=True)
class Hit:
    where: str  # "<schema>.<table>.<column>" or "<file>:<column>"
    kind: str  # column_name | record_id | ssn | address | name | dob
    example: str  # never the identifier itself: a count or the column name

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.example})"


def declared_identifier_columns() -> set[str]:
    """The declarations' identifier columns (``declaration.identifier_column_names``)."""
    return set(identifier_column_names())


def code_words() -> set[str]:
    """Declared code values (race categories, sex and content codes): a surname such as WHITE
    that is also a race category is content, not a leak."""
    words = set(OMB_RACE_ETHNICITY)
    for source in load_agencies():
        words |= {str(v).upper() for v in (*source.sex_codes, *source.race_codes, *source.race_codes.values())}
        for column in source.content:
            words |= {str(v).upper() for v in (column.codes or ())}
    return words


def identifier_column(name: str, declared: set[str]) -> bool:
    name = snake_case(name)
    if name in ALLOWED_NAMES:
        return False
    return name in declared or any(re.search(p, name) for p in IDENTIFIER_NAME_PATTERNS)


def scan_database(db_path: Path, identity_db: Path) -> list[Hit]:
    """Scan every table and view of a DuckDB file (all schemas)."""
    return scan(identity_db, db_path=db_path)


def scan_files(files: list[Path], identity_db: Path) -> list[Hit]:
    """Scan public CSV and parquet files."""
    return scan(identity_db, files=files)


def scan(identity_db: Path, db_path: Path | None = None, files: list[Path] = ()) -> list[Hit]:
    """Scan a DuckDB file's tables and views and the given files, against one set of identity
    values (built once: about 3 s at 1M records)."""
    con = _scanner(identity_db)
    try:
        hits = _scan_database(con, db_path) if db_path is not None else []
        for path in files:
            reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
            con.execute(f"create or replace temp view f as select * from {reader}('{path}')")
            hits += _scan_relation(con, "f", str(path), None)
        return hits
    finally:
        con.close()


def _scan_database(con: duckdb.DuckDBPyConnection, db_path: Path) -> list[Hit]:
    # Attach under the file's own stem: dbt's views name their catalog ("warehouse").
    cat = Path(db_path).stem
    con.execute(f"ATTACH '{db_path}' AS \"{cat}\" (READ_ONLY)")
    tables = con.execute("select table_schema, table_name from information_schema.tables "
                         "where table_catalog = ? order by all", [cat]).fetchall()
    crosswalk = f'"{cat}".spine.person_crosswalk'
    hits = []
    if ("spine", "person_crosswalk") not in tables or "record_token" not in dict(_columns(con, crosswalk)):
        crosswalk = None  # no way from a person key back to identity rows (e.g. an analyst export)
    else:
        try:
            crosswalk = _person_identities(con, crosswalk)
        except duckdb.Error as exc:  # fail closed: person-keyed rows cannot be cleared
            hits.append(Hit("spine.person_crosswalk", "unscannable", str(exc).splitlines()[0]))
            crosswalk = None
    def scan_table(schema_table: tuple[str, str]) -> list[Hit]:
        schema, table = schema_table
        cursor = con.cursor()  # the same database (identity values, attached stores), its own queries
        try:
            return _scan_relation(cursor, f'"{cat}"."{schema}"."{table}"', f"{schema}.{table}", crosswalk)
        except duckdb.Error as exc:  # fail closed: what cannot be read cannot be cleared
            return [Hit(f"{schema}.{table}", "unscannable", str(exc).splitlines()[0])]
        finally:
            cursor.close()

    with ThreadPoolExecutor(SCAN_THREADS) as pool:
        for table_hits in pool.map(scan_table, tables):  # in table order, whatever finishes first
            hits += table_hits
    return hits


def _scanner(identity_db: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"ATTACH '{identity_db}' AS idz (READ_ONLY)")
    has_records = con.execute("select count(*) from information_schema.tables where table_catalog = 'idz' "
                          "and table_name = 'records'").fetchall()[0][0]
    has_ssn = con.execute("select count(*) from information_schema.columns where table_catalog = 'idz' "
                          "and table_name = 'records' and column_name = 'ssn'").fetchall()[0][0]
    source = "idz.main.records" if has_records else (
        "(select null::varchar record_token, null::varchar record_id, null::varchar first_name, "
        "null::varchar last_name, null::date dob, null::varchar address, null::varchar ssn where false)")
    if has_records and not has_ssn:  # an identity zone from before SSNs were declared
        source = "(select *, null::varchar ssn from idz.main.records)"
    held = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                      "where table_catalog = 'idz'").fetchall()}
    # Agency-assigned content identifiers and drop IDs: whole values, under the record-ID length rule.
    agency_ids = " union all ".join(
        ["select \"value\" v from idz.main.identifiers"] * ("identifiers" in held)
        + ["select drop_id v from idz.main.drops"] * ("drops" in held)) or "select null::varchar v where false"
    # Plain tables of the in-memory database, not temp tables: every cursor of the scan sees them.
    con.execute(f"""
        create table id_values as
        select distinct 'record_id' kind, upper(trim(record_id::varchar)) v from {source}
            where length(record_id::varchar) >= 5 and not (regexp_full_match(record_id::varchar, '[0-9]+')
                  and length(record_id::varchar) < 6)
        union select distinct 'agency_id', upper(trim(v::varchar)) from ({agency_ids})
            where length(v::varchar) >= 5 and not (regexp_full_match(v::varchar, '[0-9]+') and length(v::varchar) < 6)
        union select distinct 'address', upper(trim(address)) from {source} where length(address) >= 8
        union select distinct 'name', upper(trim(first_name)) from {source} where length(first_name) >= 4
        union select distinct 'name', upper(trim(last_name)) from {source} where length(last_name) >= 4
        union select distinct 'ssn', ssn from {source} where ssn is not null
        union select distinct 'ssn', concat_ws('-', ssn[1:3], ssn[4:5], ssn[6:9]) from {source}
            where ssn is not null
    """)
    con.execute("create table code_words (v varchar)")
    con.executemany("insert into code_words values (?)", [[w] for w in sorted(code_words())])
    con.execute("delete from id_values where kind = 'name' and v in (select v from code_words)")
    # Names of 4+ letters that are not code words; shorter ones match too much content by chance.
    # One row per record and distinct identity: the identity zone holds a record once per drop that
    # sent it (a snapshot roster is resent every drop), and joining every version would count each
    # warehouse row once per resend. The DOB's text forms are computed here once, not per row scanned.
    con.execute(f"""
        create table id_rows as
        select distinct record_token, dob,
            case when length(first_name) >= 4 and upper(trim(first_name)) not in (select v from code_words)
                 then upper(trim(first_name)) end first_name,
            case when length(last_name) >= 4 and upper(trim(last_name)) not in (select v from code_words)
                 then upper(trim(last_name)) end last_name,
            strftime(dob, '%m/%d/%Y') dob_mdy, strftime(dob, '%Y%m%d') dob_ymd
        from {source}
    """)
    # Whether any identity value (or name) has the shape of a key: then no column is cleared by
    # its shape alone (see the module's docstring).
    con.execute(f"""
        create table key_shaped_identities as
        select count(*) n from (
            select v from id_values union all select first_name from id_rows union all select last_name from id_rows
        ) where regexp_full_match(lower(v), '{KEY_SHAPE}')
    """)
    return con


def _person_identities(con, crosswalk: str) -> str:
    """The identities of each person key, built once per scan (not joined through the crosswalk per table)."""
    con.execute(f"""
        create or replace table id_people as
        select distinct x.person_key, r.dob, r.first_name, r.last_name, r.dob_mdy, r.dob_ymd
        from {crosswalk} x join id_rows r on r.record_token = x.record_token
    """)
    return "id_people"


def _columns(con, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall()]


def _scan_relation(con, relation: str, label: str, crosswalk: str | None) -> list[Hit]:
    declared = declared_identifier_columns()
    columns = _columns(con, relation)
    hits = [Hit(f"{label}.{c}", "column_name", "identifier-like column name")
            for c, _ in columns if identifier_column(c, declared)]
    key = _row_key(columns, crosswalk)
    keys = _key_shaped(con, relation, columns)
    texts = [c for c, t in columns if t == "VARCHAR" and c not in keys]
    value_hits, maybe_own = _value_hits(con, relation, label, texts)
    hits += value_hits
    if key:
        # Dates and timestamps are always compared with the row's own DOB; a text column only if
        # some value of it is an identity name or shaped like a date (nothing else can match).
        dated = [(c, t) for c, t in columns if (t == "DATE" or t.startswith("TIMESTAMP") or c in maybe_own)
                 and c not in key[1]]
        hits += _aligned_hits(con, relation, label, dated, key)
    return hits


def _key_shaped(con, relation, columns) -> set[str]:
    """Key-named text columns whose every value is key-shaped (none, if any identity value is)."""
    named = [c for c, t in columns if t == "VARCHAR" and snake_case(c).endswith(KEY_NAME_SUFFIXES)]
    if not named or con.execute("select n from key_shaped_identities").fetchall()[0][0]:
        return set()
    other_shapes = ", ".join(f"""count("{c}") filter (where not regexp_full_match("{c}", '{KEY_SHAPE}'))"""
                             for c in named)
    counts = con.execute(f"select {other_shapes} from {relation}").fetchall()[0]
    return {c for c, n in zip(named, counts) if n == 0}


def _value_hits(con, relation, label, columns) -> tuple[list[Hit], set[str]]:
    """Whole-value matches of every text column against identity values, in one query; and the
    columns that could hold their own record's name or DOB: some value of theirs is an identity
    name (below the hit thresholds or not), or has a date's '-', '/' or eight digits."""
    if not columns:
        return [], set()
    # One pass over the relation (a view would be recomputed by a query per column; unpivot drops
    # nulls, as `where col is not null` would). Each column's distinct values are probed, not
    # every row's: content columns hold few distinct values, and a small hash table of them is
    # far cheaper to build than probing the large one of identity values once per row.
    picked = ", ".join(f'upper(trim("{c}")) as "{c}"' for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"""
        with column_values as (
            select distinct col, v
            from (unpivot (select {picked} from {relation}) on {names} into name col value v)
        )
        select u.col, k.kind, count(*)
        from column_values u
        join id_values k on k.v = u.v
        group by all
        union all
        select col, 'date_shaped', count(*) from column_values
        where v like '%-%' or v like '%/%' or regexp_full_match(v, '[0-9]{{8}}')
        group by all
        order by all
    """).fetchall()
    hits, maybe_own = [], set()
    for col, kind, n in rows:
        if kind in ("name", "date_shaped"):
            maybe_own.add(col)
        if kind == "date_shaped":
            continue
        if kind == "name":
            if n < NAME_HIT_MIN_VALUES:
                continue
            distinct = con.execute(f'select count(distinct upper(trim("{col}"))) from {relation}').fetchall()[0][0]
            if n / distinct < NAME_HIT_MIN_SHARE:
                continue
        hits.append(Hit(f"{label}.{col}", kind, f"{n} distinct identity-zone values"))
    return hits, maybe_own


def _row_key(columns, crosswalk) -> tuple[str, tuple[str, ...], str | None] | None:
    """How to find the identity row a row is about: its record token, or person key via the
    crosswalk (here: the per-person identities drawn from it)."""
    names = [c for c, _ in columns]
    tokens = tuple(c for c in names if c == "record_token" or c.endswith("_record_token"))
    if tokens:
        return "token", tokens, None
    keys = tuple(c for c in names if c == "person_key" or c.endswith("_person_key"))
    if keys and crosswalk:
        return "person", keys, crosswalk
    return None


def _aligned_hits(con, relation, label, columns, key) -> list[Hit]:
    """Dates of birth and names of the very record (or person) each row is keyed by."""
    if not columns:
        return []
    kind, key_cols, people = key
    hits = []
    for key_col in key_cols:
        picked = ", ".join(f't."{c}" as "v{i}"' for i, (c, _) in enumerate(columns))
        pick = f"select {picked}, r.dob, r.first_name, r.last_name, r.dob_mdy, r.dob_ymd from {relation} t"
        joined = (f'({pick} join id_rows r on r.record_token = t."{key_col}")' if kind == "token" else
                  f'({pick} join {people} r on r.person_key = t."{key_col}")')
        counts = []
        for i, (_, type_) in enumerate(columns):
            v = f'"v{i}"'
            if type_ == "DATE":  # a date is its own DOB or not: no text round trip
                is_dob = f"{v} = dob"
            else:
                text = v if type_ == "VARCHAR" else f"{v}::varchar"
                # Parse as a date only text that starts like one (YYYY-): try_cast on every value
                # was three quarters of the scan's time at 1M records, and text of any other shape
                # never parses to a date (MM/DD/YYYY and YYYYMMDD are compared as text).
                is_dob = (f"(case when {text} like '____-%' then try_cast({text} as date) = dob else false end "
                          f"or {text} = dob_mdy or {text} = dob_ymd)")
            counts.append(f"count(*) filter (where dob is not null and {is_dob})")
            counts.append(f"count(*) filter (where upper(trim({v}::varchar)) = first_name "
                          f"or upper(trim({v}::varchar)) = last_name)")
            counts.append(f"count(*) filter (where dob is not null and {v} is not null)")
        row = con.execute(f"select {', '.join(counts)} from {joined}").fetchall()[0]
        for i, (column, _) in enumerate(columns):
            n_dob, n_name, n_dated = row[3 * i], row[3 * i + 1], row[3 * i + 2]
            if n_dob and n_dob >= DOB_HIT_MIN_SHARE * n_dated:
                hits.append(Hit(f"{label}.{column}", "dob", f"{n_dob} rows hold the date of birth of their own record"))
            if n_name:
                hits.append(Hit(f"{label}.{column}", "name", f"{n_name} rows hold the name of their own record"))
    return hits
