"""Which link-refusing rules (cluster.py) a deployment applies, and the test that decides it.

Each rule (two DOBs more than one keying slip apart, incompatible first names, first names far
apart, two SSNs, M and F, two middle names, someone younger than a source allows) is a claim about the data's errors: "one
person's records never do this". That holds for agencies that key dates and names with single
slips; it does not for records with heavier corruption (two typos in a name, a re-keyed date),
where a rule refuses true links. So the claim is tested on the data being linked, against pairs
that are one person whatever their names and dates say — **anchor pairs**:
- two records sharing a nine-digit SSN, for the rules on DOB, first name, sex, middle name and age;
- two records agreeing exactly on first name, last name, DOB and ZIP, for the SSN rule (without
  the ZIP, namesakes born the same day are common in a large city: at 1M records 155 of 11,843
  name-and-DOB pairs held two SSNs, 1.3%, and the rule was wrongly dropped).
A rule is applied when at most ``TOLERANCE`` (0.5%) of its anchor pairs break it (a few namesakes or a
borrowed number among them break it even where it holds). Measured on anchor pairs: the
synthetic city (100k records) breaks the first-name rule in 9 of 12,178 SSN pairs (0.07%) and
the SSN rule in 1 of 6,676 name, DOB and ZIP pairs; FEBRL3 and FEBRL4 break the DOB rule in
4-7%, the first-name rule in 8-15% and the SSN rule in 5-7%.

The first-name rule has a lenient form, ``first_name_far``: refuse only names that are not even
similar (Jaro-Winkler below 0.7: DEAN / LACHLAN), so two typos or an OCR or phonetic respelling
pass. Where heavier keying errors break the strict rule but names are seldom replaced, it still
keeps twins and siblings apart: on the independent noise model (benchmarks/eval/admin_noise.py)
80 of 3,408 SSN pairs break the strict rule and 3 the lenient one; on FEBRL, which replaces whole
names, both are broken (365 of 4,340 pairs in FEBRL4).

The same test tells training (train.py) whether the model's fixed m for a wholly different first
name or DOB holds: where the rule is broken, that level's m is estimated from the anchor pairs.

Policy, per deployment, in ``governance.yaml`` under ``linkage: refusals:``: each rule ``on``
(always refuse), ``off`` (never) or ``auto`` (the default: the test above; with fewer than
``MIN_ANCHORS`` anchor pairs there is no evidence against the rule, and it is applied).

An incremental attach extends the people of the last full re-link, so it applies the same
policy with that re-link's ``auto`` decisions (``attach_rules``): testing again on every attach
would cost a good part of the attach's time, and a rule switched on or off between two full
re-links would let an attach build people the re-link could not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from hub_assets.linkage.cluster import RULES, record_facts, refusing_rule

MODES = ("on", "off", "auto")
# Between the synthetic city, whose anchor pairs break no rule in more than 0.07% of pairs, and
# the labelled sets, where a broken rule is broken in 0.8% (the independent noise model's DOB
# and sex) to 15%: refusing 0.8% of true pairs already costs more true links than false ones
# refused (noise model: the DOB rule refused 114 links, 95 of them true).
TOLERANCE = 0.005
MIN_ANCHORS = 100
ANCHOR_SAMPLE = 50_000  # anchor pairs tested per kind: enough to tell 0.1% from 1%
SSN_ANCHORED = ("dob", "sex", "first_name", "first_name_far", "middle_name", "min_age")


@dataclass(frozen=True)
class RuleEvidence:
    rule: str
    mode: str
    anchors: int  # anchor pairs holding the values the rule compares
    broken: int  # of them, pairs the rule would refuse
    applied: bool

    @property
    def share(self) -> float | None:
        return self.broken / self.anchors if self.anchors else None

    def as_dict(self) -> dict:
        return {"mode": self.mode, "anchor_pairs": self.anchors, "broken": self.broken,
                "share": self.share, "applied": self.applied}


def load_policy(path=None) -> dict[str, str]:
    """Rule -> mode from governance.yaml ``linkage.refusals`` (``auto`` where not given)."""
    from hub_assets.settings import GOVERNANCE_FILE

    path = Path(path or os.environ.get("HUB_GOVERNANCE_FILE") or GOVERNANCE_FILE)
    raw = {}
    if path.exists():
        raw = ((yaml.safe_load(path.read_text()) or {}).get("linkage") or {}).get("refusals") or {}
    unknown = set(raw) - set(RULES)
    if unknown:
        raise ValueError(f"{path}: linkage.refusals: unknown rule(s) {sorted(unknown)}; rules: {', '.join(RULES)}")
    # YAML reads a bare on/off as true/false.
    policy = {rule: {True: "on", False: "off"}.get(raw.get(rule, "auto"), str(raw.get(rule, "auto")))
              for rule in RULES}
    wrong = {rule: mode for rule, mode in policy.items() if mode not in MODES}
    if wrong:
        raise ValueError(f"{path}: linkage.refusals: {wrong} — each rule is one of {', '.join(MODES)}")
    return policy


def anchor_pairs(prepared: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Row-number pairs (``a``, ``b``) of the two anchor kinds: ``ssn`` and ``name_dob`` (first
    name, last name, DOB and ZIP)."""
    rows = prepared.with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64))
    out = {}
    for kind, keys in (("ssn", ["ssn"]), ("name_dob", ["first_name", "last_name", "dob", "zip"])):
        keyed = rows.drop_nulls(keys).select("_i", *keys) if all(k in rows.columns for k in keys) else None
        if keyed is None or keyed.height < 2:
            out[kind] = pl.DataFrame(schema={"a": pl.Int64, "b": pl.Int64})
            continue
        pairs = (keyed.join(keyed, on=keys, suffix="_r").filter(pl.col("_i") < pl.col("_i_r"))
                 .select(pl.col("_i").alias("a"), pl.col("_i_r").alias("b")))
        out[kind] = pairs.sample(ANCHOR_SAMPLE, seed=1) if pairs.height > ANCHOR_SAMPLE else pairs
    return out


def rule_evidence(prepared: pl.DataFrame, policy: dict[str, str] | None = None) -> dict[str, RuleEvidence]:
    """For each rule: its mode, how many anchor pairs it could test, how many break it, and
    whether it is applied to these records."""
    policy = load_policy() if policy is None else policy
    anchors = anchor_pairs(prepared)
    needed = sorted({i for frame in anchors.values() for i in (*frame["a"], *frame["b"])})
    facts = dict(zip(needed, record_facts(prepared[needed]))) if needed else {}
    evidence = {}
    for rule in RULES:
        kind = "ssn" if rule in SSN_ANCHORED else "name_dob"
        tested = broken = 0
        for a, b in anchors[kind].iter_rows():
            fa, fb = facts[a], facts[b]
            if not _holds_values(rule, fa, fb):
                continue
            tested += 1
            broken += refusing_rule(fa, fb, rules=frozenset([rule])) is not None
        applied = {"on": True, "off": False}.get(
            policy[rule], tested < MIN_ANCHORS or broken <= TOLERANCE * tested)
        evidence[rule] = RuleEvidence(rule, policy[rule], tested, broken, applied)
    return evidence


def applied_rules(evidence: dict[str, RuleEvidence]) -> frozenset[str]:
    return frozenset(rule for rule, e in evidence.items() if e.applied)


def evidence_frame(evidence: dict[str, dict], at) -> pl.DataFrame:
    """``RuleEvidence.as_dict()`` per rule as rows of the identity store's ``refusal_rules``."""
    return pl.DataFrame([{"rule": rule, "mode": e["mode"], "anchor_pairs": e["anchor_pairs"],
                          "broken": e["broken"], "applied": e["applied"], "at": at}
                         for rule, e in evidence.items()],
                        schema={"rule": pl.String, "mode": pl.String, "anchor_pairs": pl.Int64,
                                "broken": pl.Int64, "applied": pl.Boolean,
                                "at": pl.Datetime("us", "UTC")})


def attach_rules(prepared: pl.DataFrame, decided: dict[str, bool] | None = None,
                 policy: dict[str, str] | None = None) -> frozenset[str]:
    """The rules an incremental attach applies: ``on`` and ``off`` as the policy says; an ``auto``
    rule as the last full re-link decided it (``decided``: rule -> applied), and tested on
    ``prepared`` (every current record) only where no re-link has decided it yet."""
    policy = load_policy() if policy is None else policy
    decided = decided or {}
    undecided = [r for r in RULES if policy[r] == "auto" and r not in decided]
    tested = applied_rules(rule_evidence(prepared, policy)) if undecided else frozenset()
    return frozenset(r for r in RULES if policy[r] == "on" or (
        policy[r] == "auto" and (decided[r] if r in decided else r in tested)))


# Which of a record's facts (cluster.Facts) each rule compares: both sides must hold them.
_FACT = {"dob": (0,), "sex": (1,), "first_name": (2,), "first_name_far": (2,), "ssn": (3,), "middle_name": (4,),
         "min_age": (0, 6)}


def _holds_values(rule: str, a: tuple, b: tuple) -> bool:
    if rule == "min_age":  # a DOB on one side and a born-by bound on the other
        return bool((a[0] and b[6]) or (b[0] and a[6]))
    return all(a[i] and b[i] for i in _FACT[rule])
