"""Which record pairs the model scores (blocking), and the measurement that chose them.

Scoring every pair is quadratic, so Splink only scores pairs that agree on at least one
blocking rule. Each rule below catches the true matches the others miss, for the noise the
agencies' data carries (see docs/linkage.md for the counts, written by
``benchmarks/bench_linkage.py`` / :func:`measure_blocking`):

1. same date of birth and first letter of last name — the bulk of matches, including
   nicknames, first-name typos and moves;
2. same date of birth and first letter of first name — surname changes (marriage, adoption);
3. same first and last name and birth year — day/month swaps, DOB typos in day or month;
4. same last name and first letter of first name and ZIP — DOB missing or mistyped in the year;
5. first and last name swapped, same date of birth — agencies that write "last first".

Plain ``dob`` alone would also catch rules 1-2, but on a city of 1M records it produces
several times the comparisons (twins, very common birthdays across a 25-year span) for no
extra recall; the measurements are in ``blocking_counts.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from splink import block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules

PREDICTION_RULES = [
    block_on("dob", "substr(last_name, 1, 1)"),
    block_on("dob", "substr(first_name, 1, 1)"),
    block_on("first_name", "last_name", "birth_year"),
    block_on("last_name", "substr(first_name, 1, 1)", "zip"),
    "l.first_name = r.last_name and l.last_name = r.first_name and l.dob = r.dob",
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
    "first + last": block_on("first_name", "last_name"),
    "last + first initial + zip": PREDICTION_RULES[3],
    "last + zip": block_on("last_name", "zip"),
    "names swapped + dob": PREDICTION_RULES[4],
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
