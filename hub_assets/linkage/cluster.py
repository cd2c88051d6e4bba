"""Group linked records into people: links taken strongest first, never joining records that
cannot belong to one person.

Plain connected components are transitive, so one record with a missing date of birth that
matches two siblings by name and ZIP (or a false link between twins) joins two whole people,
and a merged person corrupts every count a use case makes. So clustering is Kruskal-style:
links at or above the threshold are taken from the strongest down, and a link is skipped when it
would put into one person:
- two known dates of birth that are incompatible (not equal, not day and month swapped, not one
  character apart — the errors agencies make);
- both M and F;
- two first names that are incompatible (not equal, not sharing a nickname alias, not one typo
  apart, not a typo of each other's alias, not the other record's last name). Why: twins and
  siblings share surname, address and (twins) birth date, and term-frequency weights on a rare
  surname and a unique address can outweigh even a wholly different first name in the pairwise
  model; a person's records, on the other hand, almost never carry two unrelated first names;
- two SSNs that are neither equal nor one keying error apart, or two middle names that are
  neither equal, nor an initial of each other, nor one typo apart. Pairwise, a different SSN or
  middle name is only one weight among several, and a namesake born the same day in another ZIP
  outweighs it; two people's records, though, hold two numbers and two middle names;
- a date of birth later than a record's ``born_by`` (prepare.py: its source's declared minimum
  age when the drop was loaded). A wage record without a DOB matches a namesake's school record
  in its ZIP on name alone; if that namesake is ten, it is someone else.
A skipped link is still a scored pair: it shows in the uncertain band of the quality report and
stays available for clerical review. A full re-link may also be told to keep some people apart
(``KeptApart``: people a reviewer has not agreed to merge, review.py); a link that would put two
of them into one person is skipped the same way.

Most people's records agree on all of these wherever they hold them; no link among them can be
refused, so connected components (numpy) are found first and the link-by-link walk runs only
inside components whose records disagree.

Why ``settings.MATCH_THRESHOLD``: see docs/linkage.md (measured on synthetic cities, never
tuned on truth inside the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

import jellyfish
import numpy as np
import polars as pl

from hub_assets.linkage.settings import MATCH_THRESHOLD


def dobs_compatible(a: str, b: str) -> bool:
    """ISO dates ``YYYY-MM-DD``: the same person's date as another agency may have keyed it."""
    if a == b:
        return True
    if a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return True  # day and month swapped
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) <= 1


def one_typo_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1: a letter substituted, dropped, added or transposed."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_)) if x != y), len(short))
    return short[i:] == long_[i + 1:]


Name = tuple[str, str, tuple[str, ...]]  # first name, last name, first-name aliases


def names_compatible(a: Name, b: Name) -> bool:
    (first_a, last_a, alias_a), (first_b, last_b, alias_b) = a, b
    return (any(x in alias_b for x in alias_a) or one_typo_apart(first_a, first_b)
            or first_a == last_b or first_b == last_a
            # a nickname keyed with a slip (BENY for BENNY, EBN for BEN: BENJAMIN)
            or any(one_typo_apart(x, y) for x in alias_a for y in alias_b))


# Two first names at least this similar (Jaro-Winkler) may be one name keyed badly (two typos,
# an OCR or phonetic respelling); below it they are different names (DEAN / LACHLAN).
FAR_NAMES_JW = 0.7


def names_not_far(a: Name, b: Name) -> bool:
    """The lenient first-name rule: compatible, or similar enough to be one badly keyed name."""
    return names_compatible(a, b) or jellyfish.jaro_winkler_similarity(a[0], b[0]) >= FAR_NAMES_JW


def ssns_compatible(a: str, b: str) -> bool:
    """Nine digits each: equal, or one digit mistyped or two neighbours swapped."""
    return one_typo_apart(a, b) and len(a) == len(b)


def middles_compatible(a: str, b: str) -> bool:
    """Equal, one an initial of the other (youthworks keeps initials), or one typo apart."""
    return ((len(a) == 1 or len(b) == 1) and a[0] == b[0]) or one_typo_apart(a, b)


def _compatible(values_a: frozenset, values_b: frozenset, test) -> bool:
    if not values_a or not values_b or values_a == values_b:
        return True
    return all(test(x, y) for x in values_a for y in values_b)


@dataclass(frozen=True)
class KeptApart:
    """People that must stay apart in a re-link: no person may hold records of both keys of a
    pair. ``records``: record_token, held_key (each record's previous key, only for keys in a
    pair)."""

    records: pl.DataFrame
    pairs: frozenset[frozenset[str]]


# DOBs, sexes (M/F), names (first, last, aliases), SSNs, middle names, kept-apart keys and
# latest birth dates (born_by) of a group of records. Tuples, not sets: at 1M records most groups
# hold one record, and a 1-tuple is a fifth of a frozenset's size.
Facts = tuple[tuple, tuple, tuple, tuple, tuple, tuple, tuple]
HELD = "_held_key"  # column of a record's kept-apart key, present only while clustering


def record_facts(records: pl.DataFrame) -> list[Facts]:
    """Per prepared record, what the clustering checks: its DOB, sex, name, SSN, middle name and
    latest birth date (when known), and the key it must be kept apart under (if any)."""
    n = records.height

    def column(name: str) -> list:
        return records[name].to_list() if name in records.columns else [None] * n

    return [((d,) if d else (), (s,) if s in ("M", "F") else (),
             ((f, last or "", tuple(a) if a else (f,)),) if f else (),
             (ssn,) if ssn else (), (m,) if m else (), (k,) if k else (), (b,) if b else ())
            for d, s, f, last, a, ssn, m, k, b in zip(
                column("dob"), column("sex"), column("first_name"), column("last_name"),
                column("first_name_aliases"), column("ssn"), column("middle_name"), column(HELD),
                column("born_by"))]


# The rules that can refuse a link, in the order they are checked (refusals.py holds which of
# them a deployment applies). ``kept_apart`` (reviewers' decisions) is not a policy: always on.
RULES = ("dob", "sex", "first_name", "first_name_far", "ssn", "middle_name", "min_age")
ALL_RULES = frozenset(RULES)


def refusing_rule(a: Facts, b: Facts, apart: frozenset[frozenset[str]] = frozenset(),
                  rules: frozenset[str] = ALL_RULES) -> str | None:
    """The first rule (of ``rules``, or ``kept_apart``) that says the records behind ``a`` and
    those behind ``b`` cannot be one person; None when none does."""
    if "dob" in rules and not _compatible(a[0], b[0], dobs_compatible):
        return "dob"
    if "sex" in rules and len(set(a[1] + b[1])) > 1:
        return "sex"
    if "first_name" in rules and not _compatible(a[2], b[2], names_compatible):
        return "first_name"
    if "first_name_far" in rules and not _compatible(a[2], b[2], names_not_far):
        return "first_name_far"
    if "ssn" in rules and not _compatible(a[3], b[3], ssns_compatible):
        return "ssn"
    if "middle_name" in rules and not _compatible(a[4], b[4], middles_compatible):
        return "middle_name"
    if any(frozenset((x, y)) in apart for x in a[5] for y in b[5]):
        return "kept_apart"
    if "min_age" in rules and not ages_compatible(a[0], a[6], b[0], b[6]):
        return "min_age"
    return None


def facts_compatible(a: Facts, b: Facts, apart: frozenset[frozenset[str]] = frozenset(),
                     rules: frozenset[str] = ALL_RULES) -> bool:
    """Could the records behind ``a`` and those behind ``b`` be one person?"""
    return refusing_rule(a, b, apart, rules) is None


def _too_young(dobs: tuple, born_by: tuple) -> bool:
    # The earliest reading of the DOB: the others are its slips (dobs_compatible).
    return bool(dobs and born_by) and min(dobs) > min(born_by)


def ages_compatible(dobs_a: tuple, born_by_a: tuple, dobs_b: tuple, born_by_b: tuple) -> bool:
    """Joined, would the records make someone younger than one of them allows? Only a violation
    the join creates counts: a record whose own DOB breaks its bound has a mistyped DOB (or an
    agency that took someone underage), and stays linkable."""
    return (not _too_young(dobs_a + dobs_b, born_by_a + born_by_b)
            or _too_young(dobs_a, born_by_a) or _too_young(dobs_b, born_by_b))


def merge_facts(a: Facts, b: Facts) -> Facts:
    return tuple(tuple(dict.fromkeys(x + y)) for x, y in zip(a, b))


def connected_components(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """Component label (its smallest member) of each of ``n`` nodes joined by edges left-right:
    min-label propagation with pointer jumping, in numpy (a few passes at 1M records)."""
    label = np.arange(n)
    a, b = np.concatenate([left, right]), np.concatenate([right, left])
    while True:
        nxt = label.copy()
        np.minimum.at(nxt, a, label[b])
        nxt = nxt[nxt]
        if np.array_equal(nxt, label):
            return label
        label = nxt


def _mixed_components(linked: pl.DataFrame, component: np.ndarray,
                      rules: frozenset[str] = ALL_RULES) -> set[int]:
    """Components whose records hold two different values of a column an applied rule checks
    (DOB, M and F, first name, SSN, middle name), two kept-apart keys, or a DOB later than some
    record's ``born_by``."""
    known = {"dob": pl.col("dob").drop_nulls(), "sex": pl.col("sex").filter(pl.col("sex").is_in(["M", "F"])),
             **{column: pl.col(column).drop_nulls() for column in ("first_name", "ssn", "middle_name")}}
    checked = set(rules) | ({"first_name"} if "first_name_far" in rules else set())
    varies = [values.n_unique() > 1 for column, values in known.items()
              if column in checked and column in linked.columns]
    if HELD in linked.columns:
        varies.append(pl.col(HELD).drop_nulls().n_unique() > 1)
    if "min_age" in rules and "born_by" in linked.columns and "dob" in linked.columns:
        varies.append(pl.col("dob").min() > pl.col("born_by").min())
    if not varies:
        return set()
    return set(linked.with_columns(pl.Series("_c", component)).group_by("_c")
               .agg(pl.any_horizontal(varies).alias("mixed")).filter("mixed")["_c"].to_list())


REFUSED_SCHEMA = {"unique_id_l": pl.String, "unique_id_r": pl.String,
                  "match_probability": pl.Float64, "rule": pl.String}


@dataclass(frozen=True)
class Clustering:
    clusters: pl.DataFrame  # record_token, cluster_id
    refused: pl.DataFrame  # the links a rule refused: REFUSED_SCHEMA

    def refusals(self) -> dict[str, int]:
        """Links refused, per rule."""
        counts = self.refused.group_by("rule").len()
        return {rule: int(n) for rule, n in counts.sort("rule").iter_rows()}


def cluster_pairs(records: pl.DataFrame, pairs: pl.DataFrame, threshold: float = MATCH_THRESHOLD,
                  kept_apart: KeptApart | None = None, rules: frozenset[str] = ALL_RULES) -> pl.DataFrame:
    """``record_token, cluster_id`` for every record (see :func:`cluster_people`)."""
    return cluster_people(records, pairs, threshold, kept_apart, rules).clusters


def cluster_people(records: pl.DataFrame, pairs: pl.DataFrame, threshold: float = MATCH_THRESHOLD,
                   kept_apart: KeptApart | None = None, rules: frozenset[str] = ALL_RULES) -> Clustering:
    """``record_token, cluster_id`` for every record in ``records`` (prepared records: at least
    ``unique_id``; ``dob``, ``sex``, ``first_name``, ``last_name``, ``first_name_aliases``,
    ``ssn`` and ``middle_name`` are used when present), keeping apart what ``kept_apart`` names.

    ``pairs``: unique_id_l, unique_id_r, match_probability. ``rules``: the refusal rules applied
    (refusals.py; ``kept_apart`` always is). The cluster id is the smallest record token in the
    cluster, so it does not depend on the order records arrive in. Also returns each refused link
    with the rule that refused it."""
    links = pairs.filter(pl.col("match_probability") >= threshold)
    # Only linked records take part (at 1M records most are singletons), as row numbers:
    # Python holds ints and small tuples, never the tokens.
    linked = (records.join(pl.concat([links["unique_id_l"], links["unique_id_r"]]).unique()
                           .alias("unique_id").to_frame(), on="unique_id", how="semi")
              .with_row_index("_i"))
    apart = kept_apart.pairs if kept_apart else frozenset()
    if apart:
        held = kept_apart.records.select(pl.col("record_token").alias("unique_id"),
                                         pl.col("held_key").alias(HELD))
        linked = linked.join(held, on="unique_id", how="left", maintain_order="left")
    ids = linked.select("unique_id", "_i")
    edges = (links.join(ids, left_on="unique_id_l", right_on="unique_id")
             .join(ids, left_on="unique_id_r", right_on="unique_id", suffix="_r"))
    component = connected_components(edges["_i"].to_numpy(), edges["_i_r"].to_numpy(), linked.height)
    # Most people's records agree on DOB, sex and first name wherever they have one: for them
    # no link can be refused, so the component is the person. Links are weighed one by one
    # (Kruskal, below) only inside components holding two different values of any of these.
    mixed = _mixed_components(linked, component, rules)
    order = (edges.filter(pl.Series(component[edges["_i"].to_numpy()]).is_in(sorted(mixed)))
             .sort(["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False]))
    # A record of an agreeing component points at the component's smallest member; a record
    # of a mixed one starts alone and joins others link by link.
    in_mixed = [i for i, c in enumerate(component.tolist()) if c in mixed]
    parent = component.tolist()
    for i in in_mixed:
        parent[i] = i
    facts = dict(zip(in_mixed, record_facts(linked[in_mixed]))) if in_mixed else {}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    refused = []
    for left, right, p in order.select("_i", "_i_r", "match_probability").iter_rows():
        a, b = root(left), root(right)
        if a == b:
            continue
        rule = refusing_rule(facts[a], facts[b], apart, rules)
        if rule is not None:
            refused.append((left, right, p, rule))
            continue
        keep, gone = min(a, b), max(a, b)
        parent[gone] = keep
        facts[keep] = merge_facts(facts[a], facts[b])
        del facts[gone]
    clustered = (linked.select(pl.col("unique_id").alias("record_token"),
                               pl.Series("_root", [root(i) for i in range(linked.height)],
                                         dtype=pl.UInt32))
                 .with_columns(pl.col("record_token").min().over("_root").alias("cluster_id"))
                 .drop("_root"))
    clusters = (records.select(pl.col("unique_id").alias("record_token"))
                .join(clustered, on="record_token", how="left", maintain_order="left")
                .with_columns(pl.col("cluster_id").fill_null(pl.col("record_token"))))
    tokens = linked["unique_id"]
    refused_frame = pl.DataFrame(
        {"unique_id_l": tokens.gather([r[0] for r in refused]), "unique_id_r": tokens.gather([r[1] for r in refused]),
         "match_probability": [float(r[2]) for r in refused], "rule": [r[3] for r in refused]},
        schema=REFUSED_SCHEMA)
    return Clustering(clusters, refused_frame)
