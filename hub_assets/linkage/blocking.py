"""Which record pairs the model scores (blocking), and the measurement that chose them.

Scoring every pair is quadratic, so Splink only scores pairs that agree on at least one
blocking rule. Each rule below catches the true matches the others miss, for the noise the
agencies' data carries (see docs/linkage.md for the counts, written by
``benchmarks/bench_linkage.py`` / :func:`measure_blocking`):

1. same date of birth and first letter of last name — the bulk of matches, including
   nicknames, first-name typos and moves;
2. same date of birth and first letter of first name — surname changes (marriage, adoption,
   a mother's maiden name on a birth record);
3. same first and last name and birth year — day/month swaps, DOB typos in day or month;
4. same first and last name and ZIP — DOB missing (a quarter of wage records) or mistyped
   in the year;
5. first and last name swapped — agencies that write "last first" (any DOB: a swapped record
   is often keyed carelessly elsewhere too);
6. same SSN — wage, payroll, housing and care records, whatever their names and DOB say
   (a wage record has no DOB a quarter of the time and never a sex or street address);
7. same first name, ZIP and first letter of last name, one side without a DOB — a record
   without a DOB whose surname has a typo or a hyphenation (JOHSON, JOHNSON-BELL / JOHNSON).
   At 1M records it adds 2.0M to 10.4M comparisons (the same rule for every pair: 15.6M);
8. same date of birth and ZIP — both names changed or corrupted (a surname change plus a
   nickname, two typos in each), the commonest miss on labelled sets the hub did not generate
   (FEBRL3: 41 of 148 true pairs the other rules never scored);
9. same address and first letter of first name — the DOB and surname both wrong or missing;
10. same address and date of birth — names and ZIP all differ (a ZIP keyed wrong);
11. same first name, ZIP and birth year — a surname typo or change together with a slip in
   the day or month of birth;
12. same first five or last four digits of the SSN and first letter of last name — an SSN with
   one digit mistyped or two swapped (an exact SSN is rule 6) on a record whose first name
   and DOB are corrupted too (FEBRL1: 3 of the 5 true pairs no other rule scored);
13. same last name, ZIP and first letter of first name, one side without a DOB — rule 7 for a
   slip in the first name instead of the surname (NICHOOAS / NICHOLAS).

Measured alternatives (``blocking_counts.json``, docs/linkage.md): ``first + last`` alone and
``last + first initial + ZIP`` each add a little recall (missing DOB plus a move, or plus a
first-name typo) but grow quadratically with the city (a common name, one of ~30 ZIPs):
on a 50k-record city 175k and 127k pairs against 20k and 27k for rules 3 and 4, i.e. tens of
millions at 1M records. Plain ``dob`` alone would catch rules 1-2 at several times the pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from splink import block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules

# A record without a date of birth (a quarter of wage records) can only be blocked by name and
# ZIP; a typo or a hyphenation in its last name then loses it. The first letter of a last name
# survives almost every keying error and a hyphenation, and the rule is held to pairs where one
# side has no DOB (pairs with both DOBs are blocked on them), which keeps it small.
NO_DOB_SURNAME_SLIP = ("l.first_name = r.first_name and l.zip = r.zip "
                       "and substr(l.last_name, 1, 1) = substr(r.last_name, 1, 1) "
                       "and (l.dob is null or r.dob is null)")

# Rule 13: NO_DOB_SURNAME_SLIP with the names' roles exchanged.
NO_DOB_FIRST_NAME_SLIP = ("l.last_name = r.last_name and l.zip = r.zip "
                          "and substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1) "
                          "and (l.dob is null or r.dob is null)")

PREDICTION_RULES = [
    block_on("dob", "substr(last_name, 1, 1)"),
    block_on("dob", "substr(first_name, 1, 1)"),
    block_on("first_name", "last_name", "birth_year"),
    block_on("first_name", "last_name", "zip"),
    "l.first_name = r.last_name and l.last_name = r.first_name",
    block_on("ssn"),
    NO_DOB_SURNAME_SLIP,
    block_on("dob", "zip"),
    block_on("address", "substr(first_name, 1, 1)"),
    block_on("address", "dob"),
    block_on("first_name", "zip", "birth_year"),
    block_on("substr(ssn, 1, 5)", "substr(last_name, 1, 1)"),
    block_on("substr(ssn, 6, 4)", "substr(last_name, 1, 1)"),
    NO_DOB_FIRST_NAME_SLIP,
]

# The same rules as equality keys in polars, so an incremental attach can pick the existing
# records a new record could be blocked with before anything enters Splink: (keys of the
# existing record, keys of the new record). Keep in step with PREDICTION_RULES
# (tests/test_linkage_incremental.py checks that they select the same pairs).
def _initial(column: str) -> pl.Expr:
    return pl.col(column).str.slice(0, 1)


def _same(*exprs: pl.Expr) -> tuple[list[pl.Expr], list[pl.Expr]]:
    return list(exprs), list(exprs)


BLOCKING_KEYS = [
    _same(pl.col("dob"), _initial("last_name")),
    _same(pl.col("dob"), _initial("first_name")),
    _same(pl.col("first_name"), pl.col("last_name"), pl.col("birth_year")),
    _same(pl.col("first_name"), pl.col("last_name"), pl.col("zip")),
    ([pl.col("first_name"), pl.col("last_name")], [pl.col("last_name"), pl.col("first_name")]),
    _same(pl.col("ssn")),
    # NO_DOB_SURNAME_SLIP, one entry per side that may be the one without a DOB.
    ([pl.col("first_name"), pl.col("zip"), _initial("last_name"), pl.col("dob").is_null()],
     [pl.col("first_name"), pl.col("zip"), _initial("last_name"), pl.lit(True)]),
    ([pl.col("first_name"), pl.col("zip"), _initial("last_name"), pl.lit(True)],
     [pl.col("first_name"), pl.col("zip"), _initial("last_name"), pl.col("dob").is_null()]),
    _same(pl.col("dob"), pl.col("zip")),
    _same(pl.col("address"), _initial("first_name")),
    _same(pl.col("address"), pl.col("dob")),
    _same(pl.col("first_name"), pl.col("zip"), pl.col("birth_year")),
    _same(pl.col("ssn").str.slice(0, 5), _initial("last_name")),
    _same(pl.col("ssn").str.slice(5, 4), _initial("last_name")),
    ([pl.col("last_name"), pl.col("zip"), _initial("first_name"), pl.col("dob").is_null()],
     [pl.col("last_name"), pl.col("zip"), _initial("first_name"), pl.lit(True)]),
    ([pl.col("last_name"), pl.col("zip"), _initial("first_name"), pl.lit(True)],
     [pl.col("last_name"), pl.col("zip"), _initial("first_name"), pl.col("dob").is_null()]),
]

# EM estimates the m of every comparison except the ones a rule holds fixed, so two rules
# that fix different columns between them let every comparison be trained.
TRAINING_RULES = [
    block_on("dob"),
    block_on("first_name", "last_name"),
]

# Rules that admit (almost) no false positives: their pair count, divided by an assumed
# recall, estimates how many pairs match (the prior).
DETERMINISTIC_RULES = [
    block_on("first_name", "last_name", "dob"),
    block_on("first_name", "dob", "zip"),
]
DETERMINISTIC_RECALL = 0.7

# Candidate rules measured against the chosen ones.
CANDIDATE_RULES = {
    "dob": block_on("dob"),
    "dob + last initial": PREDICTION_RULES[0],
    "dob + first initial": PREDICTION_RULES[1],
    "first + last + birth year": PREDICTION_RULES[2],
    "first + last + zip": PREDICTION_RULES[3],
    "first + last": block_on("first_name", "last_name"),
    "last + first initial + zip": block_on("last_name", "substr(first_name, 1, 1)", "zip"),
    "last + zip": block_on("last_name", "zip"),
    "names swapped": PREDICTION_RULES[4],
    "ssn": PREDICTION_RULES[5],
    "first + zip + last initial, one DOB missing": NO_DOB_SURNAME_SLIP,
    "first + zip + last initial": block_on("first_name", "zip", "substr(last_name, 1, 1)"),
    "dob + zip": PREDICTION_RULES[7],
    "address + first initial": PREDICTION_RULES[8],
    "address + dob": PREDICTION_RULES[9],
    "first + zip + birth year": PREDICTION_RULES[10],
    "ssn first five + last initial": PREDICTION_RULES[11],
    "ssn last four + last initial": PREDICTION_RULES[12],
    "last + zip + first initial, one DOB missing": NO_DOB_FIRST_NAME_SLIP,
    "address": block_on("address"),
}


def block_pairs(linker):
    """Materialise the candidate pairs the prediction rules generate (predict reuses them)."""
    return linker.inference.compute_blocked_pairs_for_predict()


def measure_blocking(records, *, sample: float = 1.0) -> dict:
    """Comparison counts for each candidate rule alone, and cumulatively for the chosen rules.

    ``records`` is a registered SplinkDataFrame of prepared records."""
    alone = {}
    for name, rule in CANDIDATE_RULES.items():
        [row] = count_comparisons_from_blocking_rules(
            records, blocking_rules=rule, link_type="dedupe_only", record_sample_proportion=sample)
        alone[name] = int(row["marginal_comparison_count"])
    cumulative = count_comparisons_from_blocking_rules(
        records, blocking_rules=PREDICTION_RULES, link_type="dedupe_only",
        record_sample_proportion=sample)
    chosen = [{"rule": row["blocking_rule"], "marginal": int(row["marginal_comparison_count"]),
               "cumulative": int(row["cumulative_comparison_count"])} for row in cumulative]
    total = int(cumulative[-1]["total_possible_comparison_count"])
    return {"records_sample_proportion": sample, "total_possible_comparisons": total,
            "rule_alone": alone, "chosen_cumulative": chosen}


def write_blocking_counts(counts: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(counts, indent=2))
    return path
