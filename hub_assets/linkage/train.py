"""Train the linkage model in the order the method needs, and load/save it as Splink JSON.

1. the prior — how likely two random records are the same person — from deterministic rules
   and an assumed recall (``blocking.DETERMINISTIC_RULES``);
2. u (how often non-matches agree at each level) by random sampling of record pairs
   (``U_MAX_PAIRS``);
3. m (how often matches agree at each level) by expectation maximisation, once per training
   blocking rule, so that each comparison is estimated by a rule that does not fix it;
4. the fixed m of a wholly different first name or DOB (settings.py) is a claim about the data's
   errors; where the records' anchor pairs break it (refusals.py: records sharing an SSN whose
   names or DOBs are not one slip apart in more than 0.5% of pairs), that level's m is estimated
   from the anchor pairs instead, so heavier corruption than the synthetic city's is weighed as
   the data shows it.

Retraining is deliberate (weekly schedule, or when no model exists): the linkage assets load
the saved JSON, so a new drop never silently changes the weights.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker, SettingsCreator

from hub_assets.linkage.blocking import DETERMINISTIC_RECALL, DETERMINISTIC_RULES, TRAINING_RULES
from hub_assets.linkage.prepare import CLUSTER_ONLY_COLUMNS
from hub_assets.linkage.refusals import MIN_ANCHORS, TOLERANCE, RuleEvidence, rule_evidence
from hub_assets.linkage.settings import linkage_settings

INPUT_TABLE = "hub_linkage_records"
# Random pairs for u. 1M pairs estimate every level's u to within a few percent (the rarest,
# names swapped, ~1e-4, is still seen ~100 times); 5M cost ~40 s on 2 busy cores for no
# measurable change in precision or recall (benchmarks/results/linkage.md).
U_MAX_PAIRS = 1e6
DEFAULT_MEMORY_LIMIT = "2GB"  # 1M records: 2.7 GB peak, 1.08x plain Splink (1.5 GB: 2.3 GB, 1.45x)


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """The linker's private in-memory DuckDB, bounded so that a 1M-record city fits the
    machine: past ``HUB_LINKAGE_MEMORY_LIMIT`` (default 2 GB) DuckDB spills blocked pairs and
    joins to a temporary directory instead of growing."""
    con = duckdb.connect()
    limit = os.environ.get("HUB_LINKAGE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    spill = Path(os.environ.get("HUB_LINKAGE_TEMP_DIR", tempfile.gettempdir())) / "hub_linkage_spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"set memory_limit = '{limit}'")
    con.execute(f"set temp_directory = '{spill}'")
    con.execute("set preserve_insertion_order = false")  # lets large sorts and joins stream
    return con


def make_linker(prepared: pl.DataFrame, model: dict | SettingsCreator | None = None,
                con: duckdb.DuckDBPyConnection | None = None, table: str = INPUT_TABLE,
                validate: bool = True) -> Linker:
    """A Splink linker over prepared records, in a private (in-memory) DuckDB by default.

    Splink 5 cannot take a schema-qualified table name, so the records are materialised as a
    plain table in the linker's own connection."""
    con = con or duckdb_connection()
    arrow = prepared.drop(CLUSTER_ONLY_COLUMNS, strict=False).to_arrow()
    con.register("_hub_prepared", arrow)
    con.execute(f"create or replace table {table} as select * from _hub_prepared")
    con.unregister("_hub_prepared")
    db_api = DuckDBAPI(con)
    records = db_api.register(table)
    settings = linkage_settings() if model is None else model
    if isinstance(settings, dict):
        settings = json.loads(json.dumps(settings))  # Splink mutates what it is given
    # ``validate=False`` skips Splink's column checks (~0.2 s): for a saved model whose
    # columns were checked when it was trained, on records from the same prepare step.
    return Linker(records, settings, log_level=logging.WARNING, validate_settings=validate)


# Comparisons whose wholly-different level has a fixed m (settings.py), and the refusal rule
# whose anchor test says whether that m holds for these records.
FIXED_ELSE = {"first_name": "first_name", "dob": "dob"}


def train(linker: Linker, *, u_max_pairs: float | None = None, em_max_pairs: float | None = 2e6,
          seed: int = 42, policy: dict[str, str] | None = None,
          evidence: dict[str, RuleEvidence] | None = None) -> dict:
    """Estimate the prior, u and m in place; return the trained model as a dict. ``evidence``:
    the refusal rules' anchor test on these records (refusals.rule_evidence), when the caller
    has it already (a link that trains first tests once, for training and clustering)."""
    training = linker.training
    training.estimate_probability_two_random_records_match(
        DETERMINISTIC_RULES, recall=DETERMINISTIC_RECALL)
    training.estimate_u_using_random_sampling(max_pairs=u_max_pairs or _u_pairs(linker), seed=seed)
    for rule in TRAINING_RULES:
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs,
            record_sample_proportion=_em_probe(linker))
    if evidence is None:
        evidence = rule_evidence(linker._db_api.duckdb_con.sql(f"select * from {INPUT_TABLE}").pl(), policy)
    fit_broken_levels(linker, evidence)
    return linker.misc.save_model_to_json()


def fit_broken_levels(linker: Linker, evidence: dict[str, RuleEvidence]) -> dict[str, float]:
    """Where the anchor pairs break a rule (whatever its mode), estimate the m of the matching
    comparison's wholly-different level from pairs sharing an SSN, in place; the other levels'
    m are scaled to sum to one. Returns comparison -> the m set."""
    con = linker._db_api.duckdb_con
    columns = [row[0] for row in con.sql(f"describe {INPUT_TABLE}").fetchall()]
    fitted = {}
    for comparison in linker._settings_obj.comparisons:
        rule = FIXED_ELSE.get(comparison.output_column_name)
        e = evidence.get(rule) if rule else None
        if e is None or e.anchors < MIN_ANCHORS or e.broken <= TOLERANCE * e.anchors:
            continue
        levels = comparison.comparison_levels
        cases = " ".join(f"when {level.sql_condition} then {i}" for i, level in enumerate(levels)
                         if not level.is_null_level and level.sql_condition.strip().upper() != "ELSE")
        nulls = " or ".join(f"({level.sql_condition})" for level in levels if level.is_null_level)
        side = ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in columns)
        counts = dict(con.sql(
            f"select case {cases} else {len(levels) - 1} end as level, count(*) from "
            f"(select {side} from {INPUT_TABLE} l join {INPUT_TABLE} r "
            f"on l.ssn = r.ssn and l.unique_id < r.unique_id) where not ({nulls}) group by 1").fetchall())
        total = sum(counts.values())
        other = levels[-1]
        share = counts.get(len(levels) - 1, 0) / total if total else 0.0
        if other.sql_condition.strip().upper() != "ELSE" or share <= (other.m_probability or 0):
            continue
        rest = 1 - (other.m_probability or 0)
        for level in levels:
            if not level.is_null_level and level is not other and level.m_probability is not None:
                level.m_probability = level.m_probability * (1 - share) / rest
        other.m_probability = share
        fitted[comparison.output_column_name] = share
    return fitted


def _u_pairs(linker: Linker) -> float:
    # A small city needs fewer random pairs than U_MAX_PAIRS to see every level (and sampling
    # all pairs of a few hundred records costs seconds for nothing); 50 per record, >= 100k.
    rows = linker._db_api.duckdb_con.sql(f"select count(*) from {INPUT_TABLE}").fetchall()[0][0]
    return min(U_MAX_PAIRS, max(1e5, 50.0 * rows))


def _em_probe(linker: Linker) -> float:
    # The probe that sizes EM's sample must see enough records to be meaningful on a small city.
    rows = linker._db_api.duckdb_con.sql(f"select count(*) from {INPUT_TABLE}").fetchall()[0][0]
    return 1.0 if rows < 200_000 else max(0.01, 200_000 / rows)


def save_model(model: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2))
    return path


def load_model(path: Path) -> dict:
    return json.loads(path.read_text())


def write_charts(linker: Linker, directory: Path) -> dict[str, Path]:
    """Match weights and m/u parameter charts as standalone HTML for review."""
    directory.mkdir(parents=True, exist_ok=True)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    paths = {}
    for name, chart in charts.items():
        path = directory / f"{name}.html"
        chart.save(str(path))
        paths[name] = path
    return paths
