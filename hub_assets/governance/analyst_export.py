"""The analyst hand-over for one data-sharing agreement: the minimum necessary, k-anonymous.

``hub export-analyst OUT --agreement ID`` writes a DuckDB file holding only:

- the staging models of the agreement's sources, the spine, and every model whose lineage (what
  its compiled SQL really reads, ``export_scope``) reaches only those sources and the spine —
  nothing of another agency, and
  never the identity zone, ``raw`` or ``audit``; only schemas the analyst role may read
  (``governance.yaml`` ``roles.analyst.schemas``);
- only the people the agreement's sources hold (the spine and crosswalk are cut to them);
- no record tokens (a token is the key back into the identity zone);
- quasi-identifiers generalised (``k_anonymity``): the spine's birth year and month, sex,
  race/ethnicity and neighbourhood become ``birth_period``, ``sex``, ``race_ethnicity`` and
  ``area`` at levels where every combination describes at least k people; in every other
  person-keyed table those columns (and any ``*_neighbourhood``) carry the person's generalised
  values, so no table adds detail the spine hides; columns derived from a birth date (ages, age
  bands, birth dates and years of anyone in the row) are left out unless birth months are kept.

k and the suppression budget come from ``governance.yaml`` (``analyst_export``). The export
writes ``<OUT stem>.k_report.json`` beside it: the levels chosen, the k distribution (class
size -> number of classes), who was suppressed (a count) and which columns were generalised.
Views are materialised as tables so the file stands alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

from hub_assets.dbt.manifest import load_manifest
from hub_assets.disclosure.k_anonymity import Generalised, k_anonymise
from hub_assets.governance import audit
from hub_assets.governance.agreements import DEFAULT_MIN_CELL_SIZE
from hub_assets.governance.export_scope import in_scope, lineage_from_manifest

NEVER_EXPORTED = {"raw", "audit", "information_schema", "pg_catalog"}
SPINE = "spine.person_spine"
# The spine's tables about people; its key history and publish bookkeeping cover everyone and
# say nothing an analyst of one agreement needs.
SPINE_TABLES = ("person_spine", "person_crosswalk")
# Person-level quasi-identifier columns and the generalised spine value that replaces them.
QI_REPLACEMENTS = {"birth_year": "birth_period", "birth_month": None, "sex": "sex",
                   "race_ethnicity": "race_ethnicity", "neighbourhood": "area"}
# Ages and birth dates computed from someone's birth (age, age_band_at_first_contact,
# mother_age_at_birth, child_birth_year, birth_date): finer than a generalised birth period.
BIRTH_DERIVED = re.compile(r"(^|_)(age|aged)(_|$)|(^|_)birth_(date|year|month)$")
DEFAULT_K = DEFAULT_MIN_CELL_SIZE + 1  # no class smaller than the smallest count the public may see
DEFAULT_MAX_SUPPRESSED = 0.05


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    tables: list[str]
    dropped_columns: list[str]
    digest: str
    agreement: str = ""
    k: int = DEFAULT_K
    smallest_class: int = 0
    report: Path | None = None


def token_column(name: str) -> bool:
    return name == "record_token" or name.endswith("_record_token")


def export_settings(governance_file: Path | None = None) -> tuple[int, float]:
    """(k, max suppressed share) from ``governance.yaml``'s ``analyst_export`` section. Without
    it, k is the publication threshold plus one (``disclosure.min_cell_size`` + 1)."""
    import os

    from hub_assets.settings import GOVERNANCE_FILE

    path = Path(governance_file or os.environ.get("HUB_GOVERNANCE_FILE") or GOVERNANCE_FILE)
    raw = yaml.safe_load(path.read_text()) or {}
    section = raw.get("analyst_export") or {}
    min_cell = int((raw.get("disclosure") or {}).get("min_cell_size", DEFAULT_MIN_CELL_SIZE))
    k = int(section.get("k", min_cell + 1))
    share = float(section.get("max_suppressed_share", DEFAULT_MAX_SUPPRESSED))
    if k < 2 or not 0 <= share < 1:
        raise ValueError(f"{path}: analyst_export needs k >= 2 and 0 <= max_suppressed_share < 1")
    return k, share


def find_agreement(governance, agreement: str):
    for item in governance.agreements.values():
        if agreement in (item.id, item.use_case):
            return item
    known = ", ".join(sorted(a.id for a in governance.agreements.values()))
    raise KeyError(f"no agreement {agreement!r} in governance.yaml (agreements: {known})")


def export_analyst(warehouse_db: Path, out: Path, governance, agreement: str,
                   lineage: dict[str, set[str]] | None = None, k: int | None = None,
                   max_suppressed_share: float | None = None, lineage_from: str = "manifest") -> ExportSummary:
    """``lineage``: relation -> sources reached (``export_scope``); the manifest's when omitted."""
    chosen = find_agreement(governance, agreement)
    default_k, default_share = export_settings()
    k = k or default_k
    share = default_share if max_suppressed_share is None else max_suppressed_share
    readable = set(governance.schemas_for("analyst")) - NEVER_EXPORTED
    # A source whose rule forbids analyst export (governance.yaml source_rules) is never in scope,
    # whatever the agreement lists: no relation reaching it, and no person's systems naming it.
    allowed = (set(chosen.sources) | set(governance.shared_sources)) - governance.never_exported
    if lineage is None:
        lineage = lineage_from_manifest(load_manifest(), set(governance.agencies))
    scope = in_scope(lineage, allowed)
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists: an export is written once; choose a new file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    cat = Path(warehouse_db).stem  # dbt's views name their catalog ("warehouse")
    con = duckdb.connect(str(out))
    tables, dropped, generalised_columns = [], [], []
    try:
        con.execute(f"ATTACH '{warehouse_db}' AS \"{cat}\" (READ_ONLY)")
        rows = con.execute("select table_schema, table_name from information_schema.tables "
                           "where table_catalog = ? order by all", [cat]).fetchall()
        wanted = [(s, t) for s, t in rows if s not in NEVER_EXPORTED and (s in readable or "*" in readable)
                  and (f"{s}.{t}" in scope or (s == "spine" and t in SPINE_TABLES and "spine" in allowed))]
        people = _people_in_scope(con, cat, wanted, set(chosen.sources) & allowed)
        result = _generalise(con, cat, people, k, share)
        con.register("qi", result.people.to_arrow())
        for schema, table in wanted:
            columns = [c[0] for c in con.execute(f'describe "{cat}"."{schema}"."{table}"').fetchall()]
            dropped += [f"{schema}.{table}.{c}" for c in columns if token_column(c)]
            select, generalised = _select(schema, table, [c for c in columns if not token_column(c)], allowed,
                                          keep_birth_detail=result.levels.birth == 0)
            if not select:
                continue
            generalised_columns += [f"{schema}.{table}.{c}" for c in generalised]
            source = f'"{cat}"."{schema}"."{table}"'
            keyed = "person_key" in columns
            body = (f"select {select} from {source} t join qi on qi.person_key = t.person_key" if keyed
                    else f"select {select} from {source} t")
            if keyed and "source" in columns and table.endswith("person_crosswalk"):
                # Which other agencies hold a person is not the agreement's to see.
                body += f" where t.source in ({_quoted(_identity_sources(allowed))})"
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as {body}')
            tables.append(f"{schema}.{table}")
        con.execute(f'DETACH "{cat}"')
    finally:
        con.close()
    report = _write_report(out, chosen, result, tables, generalised_columns, people.height, lineage_from)
    return ExportSummary(out, tables, dropped, audit.sha256_file(out), chosen.id, k,
                         result.smallest_class, report)


def _people_in_scope(con, cat: str, wanted: list[tuple[str, str]], sources) -> pl.DataFrame:
    """The spine rows of the people the agreement's staging models hold."""
    staging = [f'select person_key from "{cat}"."{s}"."{t}"' for s, t in wanted
               if s == "staging" and any(t.startswith(f"stg_{a}__") for a in sources)
               and "person_key" in {c[0] for c in con.execute(f'describe "{cat}"."{s}"."{t}"').fetchall()}]
    if not staging:
        return pl.DataFrame(schema={"person_key": pl.String, "birth_year": pl.Int32, "birth_month": pl.Int32,
                                    "sex": pl.String, "race_ethnicity": pl.String, "neighbourhood": pl.String})
    return con.sql(f"""
        select person_key, birth_year, birth_month, sex, race_ethnicity, neighbourhood
        from "{cat}".{SPINE}
        where person_key in ({' union '.join(staging)})
        order by person_key
    """).pl()


def _generalise(con, cat, people: pl.DataFrame, k: int, share: float) -> Generalised:
    result = k_anonymise(people, k, share)
    if people.height and result.smallest_class < k:
        raise ValueError(f"the agreement's sources hold {people.height} people, fewer than k = {k}: "
                         "no export can meet k")
    return result


def _identity_sources(allowed: set[str]) -> list[str]:
    from hub_assets.sources.identity_sources import agency_of_source

    return sorted(src for src, agency in agency_of_source().items() if agency in allowed)


def _quoted(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "null"


def _select(schema: str, table: str, columns: list[str], allowed: set[str],
            keep_birth_detail: bool) -> tuple[str, list[str]]:
    """The export's select list: quasi-identifiers of person-keyed tables replaced by the
    person's generalised values (the spine's by ``qi`` alone, under its generalised names);
    a person's systems cut to the agreement's sources, and record counts over every agency left out."""
    keyed = "person_key" in columns
    parts, generalised = [], []
    for c in columns:
        if keyed and c == "systems":
            parts.append(f'list_filter(t."systems", lambda x: x in ({_quoted(sorted(allowed))})) as "systems"')
            continue
        if keyed and c == "n_records":
            continue
        if keyed and c not in QI_REPLACEMENTS and BIRTH_DERIVED.search(c) and not keep_birth_detail:
            generalised.append(c)  # left out: finer than the birth period the export keeps
            continue
        target = QI_REPLACEMENTS.get(c, "area" if c.endswith("_neighbourhood") else "")
        if keyed and c in QI_REPLACEMENTS or (keyed and c.endswith("_neighbourhood")):
            generalised.append(c)
            if target is None:
                continue
            # A birth year now holds a birth period, under that name; the spine (and its staging
            # copy) name every quasi-identifier as generalised.
            name = target if table.endswith("person_spine") or c == "birth_year" else c
            parts.append(f'qi."{target}" as "{name}"')
        else:
            parts.append(f't."{c}"')
    return ", ".join(parts), generalised


def _write_report(out: Path, agreement, result: Generalised, tables, generalised, people: int,
                  lineage_from: str) -> Path:
    report = out.with_name(f"{out.stem}.k_report.json")
    report.write_text(json.dumps({
        "agreement": agreement.id, "use_case": agreement.use_case, "sources": sorted(agreement.sources),
        "lineage": lineage_from,
        "people": people, "k": result.k, "smallest_class": result.smallest_class,
        "levels": result.levels.describe(), "suppressed_people": result.suppressed_people,
        "k_distribution": {str(size): n for size, n in result.class_sizes.items()},
        "generalised_columns": sorted(generalised), "tables": tables,
    }, indent=1) + "\n")
    return report


def export_for_analysts(data_dir: Path, out: Path, agreement: str, purpose: str,
                        actor: str | None = None, compiled: bool = True) -> tuple[ExportSummary, list]:
    """The ``hub export-analyst`` command: export, prove it clean, audit it.

    Proving it clean reads the identity zone (the identifier scan), so that read is audited
    first, with ``actor`` and ``purpose`` (refused without a purpose). A file that fails the scan
    is deleted, not handed over. The export is audited in ``audit.log`` at once and in
    ``audit.events`` when the warehouse is free (else at the next build, which inserts the events
    the table lacks). ``compiled``: scope from the project compiled now against this data
    directory (what the SQL reads); else from the manifest's ``depends_on``.
    """
    from hub_assets.governance.agreements import load_governance
    from hub_assets.identifier_scan.scan import scan_database
    from hub_assets.settings import HubPaths

    paths = HubPaths(Path(data_dir).resolve())
    audit.record_access(paths.root, f"analyst export {out} (agreement {agreement}): identifier scan",
                        purpose, actor)
    governance = load_governance()
    find_agreement(governance, agreement)  # an unknown agreement is refused before compiling
    lineage = _compiled_lineage(paths, governance) if compiled else None
    summary = export_analyst(paths.warehouse_db, out, governance, agreement, lineage,
                             lineage_from="compiled SQL" if compiled else "manifest")
    hits = scan_database(summary.out, paths.identity_db)
    if hits:
        summary.out.unlink()
        if summary.report:
            summary.report.unlink(missing_ok=True)
        return summary, hits
    audit.append_event(paths.root, "analyst_export",
                       f"{summary.out} ({len(summary.tables)} tables, agreement {summary.agreement}, k={summary.k})",
                       approval=f"role:analyst; agreement:{summary.agreement}", digest=summary.digest,
                       who=actor, purpose=purpose)
    audit.sync_if_free(paths.root)
    return summary, hits


def _compiled_lineage(paths, governance) -> dict[str, set[str]]:
    import tempfile

    from hub_assets.governance.dbt_compile import compile_project
    from hub_assets.governance.export_scope import lineage_from_compiled
    from hub_assets.settings import DBT_PROJECT_DIR

    with tempfile.TemporaryDirectory(prefix="export-compile-") as target:
        project = compile_project(DBT_PROJECT_DIR, Path(target), env={"HUB_DATA_DIR": str(paths.root)})
    return lineage_from_compiled(project, set(governance.agencies))
