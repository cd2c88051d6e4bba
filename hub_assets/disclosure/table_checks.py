"""Disclosure checks on a published table: what the public asset checks assert.

Each function returns a list of problems (empty = safe), each naming the row and column, so a
failing check says exactly which cell would have disclosed someone. ``TABLE_RULES`` are the rules
a table must pass on its own; with the attacker audit (``release_audit``: what no single table
shows, a cell recovered from several tables or from two releases) they form the one registry the
release applies and the public checks assert (``rules.DISCLOSURE_RULES``).

Counts are published rounded to ``disclosure.rounding_base`` (``rounding``), so the smallest
count a reader can see is the threshold plus one, rounded: 10 for a threshold of 10 and base 5.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from hub_assets.disclosure.margins import TOTAL, PublishSpec, margin_groups
from hub_assets.disclosure.part_whole import difference_name, exposed_cells, related_sets
from hub_assets.disclosure.recovery import recoverable_cells
from hub_assets.disclosure.rounding import round_count

# Columns that, combined, can single out a young person (quasi-identifiers).
QUASI_IDENTIFIERS = ("neighbourhood", "csa", "school", "week", "age", "age_band", "sex", "gender",
                     "race_ethnicity", "birth_year", "zip")


def _label(row: dict, spec: PublishSpec) -> str:
    return ", ".join(f"{d}={row[d]}" for d in spec.dimensions) or "the table"


def _published(table: pl.DataFrame, column: str) -> list[int | None]:
    flags = table[f"{column}_suppressed"] if f"{column}_suppressed" in table.columns else None
    values = table[column].to_list()
    return [None if v is None or (flags is not None and flags[i]) else v for i, v in enumerate(values)]


def smallest_shown(threshold: int, base: int = 1) -> int:
    """The least non-zero count a release shows: the threshold plus one, rounded."""
    return round_count(threshold + 1, base)


def small_counts_visible(table: pl.DataFrame, spec: PublishSpec, threshold: int, base: int = 1) -> list[str]:
    """A count from 1 to the threshold is visible anywhere (cells or totals); read rounded, any
    non-zero count below the threshold plus one, rounded."""
    problems = []
    for row in table.iter_rows(named=True):
        for count in spec.counts:
            value = row[count]
            if value is not None and 1 <= value < smallest_shown(threshold, base):
                problems.append(f"{count}={value} is visible at {_label(row, spec)} (threshold {threshold})")
    return problems


def recoverable_suppressed(table: pl.DataFrame, spec: PublishSpec, threshold: int | None = None) -> list[str]:
    """A suppressed cell is determined by the published cells and margin equations; a difference
    ``whole - part`` of related counts (``spec.parts``) from 1 to the threshold is visible or
    determined, or a suppressed cell is determined through one; or a visible rate sits on a
    suppressed numerator or denominator. ``threshold`` defaults to the governed one."""
    if threshold is None:
        from hub_assets.disclosure.suppression import min_cell_size

        threshold = min_cell_size()
    rows = table.to_dicts()
    groups = margin_groups(rows, spec.key_dimensions)
    problems, solved = [], set()
    for count in spec.counts:
        for cell, value in sorted(recoverable_cells(_published(table, count), groups).items()):
            solved.add((count, cell))
            problems.append(f"suppressed {count} at {_label(rows[cell], spec)} can be recovered "
                            f"from the margins (it is {value})")
    published = {count: _published(table, count) for count in spec.counts}
    for relations in related_sets(spec.parts):
        by_name = {difference_name(r): r for r in relations}
        for (name, row), value in sorted(exposed_cells(published, relations, groups, threshold).items()):
            where = _label(rows[row], spec)
            if name in published and (name, row) not in solved:
                problems.append(f"suppressed {name} at {where} can be recovered from the margins and "
                                f"part/whole counts (it is {value})")
            elif name in by_name:
                shown = all(published[c][row] is not None for c in by_name[name])
                how = "readable by subtraction" if shown else "recoverable from the margins"
                problems.append(f"{name} at {where} is {value} (threshold {threshold}), {how}")
    return problems + rates_on_suppressed_counts(table, spec)


def rates_on_suppressed_counts(table: pl.DataFrame, spec: PublishSpec, threshold: int = 0, base: int = 1) -> list[str]:
    """A rate is visible while its numerator or denominator is suppressed (rate x denominator
    gives the numerator back)."""
    rows = table.to_dicts()
    problems = []
    for rate, num, den in spec.rates:
        shown, nums, dens = _published(table, rate), _published(table, num), _published(table, den)
        for i, row in enumerate(rows):
            if shown[i] is not None and (nums[i] is None or dens[i] is None):
                problems.append(f"rate {rate} is visible at {_label(row, spec)} while {num} or {den} "
                                "is suppressed")
    return problems


def too_finely_grouped(table: pl.DataFrame, spec: PublishSpec, threshold: int, base: int = 1) -> list[str]:
    """At the finest grouping, a combination of quasi-identifiers describes 1..threshold youth."""
    quasi = [d for d in spec.dimensions if any(q in d for q in QUASI_IDENTIFIERS)] or list(spec.dimensions)
    problems = []
    for row in table.iter_rows(named=True):
        if any(row[d] == TOTAL for d in spec.key_dimensions):
            continue
        for count in spec.counts:
            value = row[count]
            if value is not None and 0 < value < smallest_shown(threshold, base):
                combo = ", ".join(f"{d}={row[d]}" for d in quasi)
                problems.append(f"{combo} describes {value} youth ({count}), fewer than {threshold + 1}")
    return problems


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    problems: Callable[[pl.DataFrame, PublishSpec, int, int], list[str]]  # (table, spec, threshold, base)


TABLE_RULES = (
    Rule("no_small_counts_visible", "No count from 1 to the threshold is visible.", small_counts_visible),
    Rule("no_rate_on_a_suppressed_count", "No rate is visible while its numerator or denominator is suppressed.",
         rates_on_suppressed_counts),
    Rule("not_too_finely_grouped", "No finest-grouping combination describes 1..threshold youth.", too_finely_grouped),
)
