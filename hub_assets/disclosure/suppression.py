"""The one disclosure-control mechanism every public number passes through.

- Primary suppression: a count from 1 to the threshold (``governance.yaml``
  ``disclosure.min_cell_size``, default 10, overridden by ``HUB_MIN_CELL_SIZE``) is hidden.
  Zero is shown: it describes nobody.
- Complementary (secondary) suppression: whenever a margin group (a total and its children)
  has exactly one hidden cell, or hidden cells whose total gives them away, the next-smallest
  non-zero cell of the group is hidden too; repeated over rows, columns and the grand total until
  stable, then verified by solving the margin equations (``recovery``) and widened until no
  hidden cell can be recovered.
- Part and whole (``PublishSpec.parts``): ``whole - part`` in a row is a count of people read by
  subtraction, so it obeys the same rule: from 1 to the threshold it must be neither visible nor
  recoverable, and no hidden cell of either column may be recovered through it. The related
  columns are solved jointly (``part_whole``); the part is hidden where a small difference shows,
  and a difference recovered from the margins hides the part where the next-smallest difference
  of its margin group shows; then each column's own margins are protected again, until nothing
  is exposed. Columns with no relation are suppressed exactly as above, on their own.
- A rate whose numerator or denominator is hidden is hidden.

Hidden cells are NULL with a ``<column>_suppressed`` flag, never 0. Every choice between equally
small cells goes to the first in the table's declared order (``cube``), so the same cells give
the same table in every run. This is one table's pattern; ``protect`` protects all the tables of
a release together on top of it, and rounds what is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from hub_assets.disclosure.margins import TOTAL, PublishSpec, add_margins, margin_groups, validate_cells
from hub_assets.disclosure.part_whole import Relation, difference_name, differences, exposed_cells, related_sets
from hub_assets.disclosure.recovery import recoverable_cells
from hub_assets.file_versions import parsed_once_per_version
from hub_assets.settings import GOVERNANCE_FILE

DEFAULT_MIN_CELL_SIZE = 10
DEFAULT_ROUNDING_BASE = 5
DEFAULT_PROTECTION_WIDTH = 3


def min_cell_size() -> int:
    """The threshold: ``HUB_MIN_CELL_SIZE`` if set, else ``governance.yaml``, else 10."""
    if os.environ.get("HUB_MIN_CELL_SIZE"):
        return int(os.environ["HUB_MIN_CELL_SIZE"])
    from hub_assets.governance.agreements import load_governance

    return load_governance().min_cell_size


@dataclass(frozen=True)
class DisclosureSettings:
    """``governance.yaml`` ``disclosure:``: the threshold, the rounding base of every published
    count, and the least width an attacker's interval around a small suppressed count may have."""

    min_cell_size: int
    rounding_base: int
    protection_width: int


def disclosure_settings() -> DisclosureSettings:
    path = Path(os.environ.get("HUB_GOVERNANCE_FILE") or GOVERNANCE_FILE)
    raw = (_read_yaml(path) or {}).get("disclosure") or {}
    settings = DisclosureSettings(min_cell_size(), int(raw.get("rounding_base", DEFAULT_ROUNDING_BASE)),
                                  int(raw.get("protection_width", DEFAULT_PROTECTION_WIDTH)))
    if settings.rounding_base < 1 or settings.protection_width < 1:
        raise ValueError(f"{path}: disclosure.rounding_base and disclosure.protection_width must be 1 or more")
    return settings


@parsed_once_per_version
def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def publish(mart: pl.DataFrame, spec: PublishSpec, threshold: int, where: str) -> pl.DataFrame:
    """A mart's cells -> the public table: margins added, then suppressed; sorted, totals last."""
    return suppress(cube(mart, spec, where), spec, threshold)


def cube(mart: pl.DataFrame, spec: PublishSpec, where: str) -> pl.DataFrame:
    """The mart's cells with their margins, unsuppressed, in the table's declared order: by its
    dimensions in declaration order, values ascending, totals last. Every tie suppression breaks
    is broken by this row order, so the same cells give the same table whatever order the
    warehouse returned them in."""
    table = add_margins(declared_order(validate_cells(mart, spec, where), spec), spec)
    return declared_order(table, spec)


def declared_order(table: pl.DataFrame, spec: PublishSpec) -> pl.DataFrame:
    if not spec.dimensions:
        return table
    order = [e for d in spec.dimensions for e in ((pl.col(d) == TOTAL), pl.col(d))]
    return table.sort(order, nulls_last=True, maintain_order=True)


def suppress(table: pl.DataFrame, spec: PublishSpec, threshold: int) -> pl.DataFrame:
    return render(table, spec, table_pattern(table, spec, threshold))


def table_pattern(table: pl.DataFrame, spec: PublishSpec, threshold: int) -> dict[str, set[int]]:
    """The rows hidden in each count column of one table (margins and part/whole solved within it)."""
    rows = table.to_dicts()
    groups = margin_groups(rows, spec.key_dimensions)
    values = {count: [int(r[count]) for r in rows] for count in spec.counts}
    hidden = {count: hidden_cells(values[count], groups, threshold) for count in spec.counts}
    for relations in related_sets(spec.parts):
        _protect_differences(values, hidden, relations, groups, threshold)
    return hidden


def render(table: pl.DataFrame, spec: PublishSpec, hidden_counts: dict[str, set[int]]) -> pl.DataFrame:
    """The table with the ``hidden_counts`` rows of each count NULL and flagged; a rate is hidden
    where its numerator or denominator is."""
    rows = table.to_dicts()
    hidden = dict(hidden_counts)
    for rate, num, den in spec.rates:
        hidden[rate] = hidden[num] | hidden[den]
    out = table.select(spec.dimensions)
    for column in [*spec.counts, *spec.rate_names]:
        flag = pl.Series(f"{column}_suppressed", [i in hidden[column] for i in range(len(rows))], pl.Boolean)
        shown = table[column].scatter(sorted(hidden[column]), None) if hidden[column] else table[column]
        out = out.with_columns(shown.alias(column), flag)
    return out


def hidden_cells(values: list[int], groups: list[tuple[int, list[int]]], threshold: int,
                 already: set[int] = frozenset()) -> set[int]:
    """Primary then complementary suppression of one count column (beyond the cells ``already``
    hidden); returns the hidden cells."""
    hidden = {i for i, v in enumerate(values) if 1 <= v <= threshold} | set(already)
    while True:
        _protect_margin_groups(values, groups, hidden)
        published = [None if i in hidden else v for i, v in enumerate(values)]
        leaks = recoverable_cells(published, groups)
        if not leaks or not _widen(values, groups, hidden, leaks):
            return hidden


def _protect_margin_groups(values, groups, hidden) -> None:
    changed = True
    while changed:
        changed = False
        for parent, children in groups:
            members = [parent, *children]
            shown = [i for i in members if i in hidden]
            if shown and _exposed(shown, parent, values):
                pick = _next_smallest(values, children, hidden, parent)
                if pick is not None:
                    hidden.add(pick)
                    changed = True


def _exposed(hidden_members: list[int], parent: int, values: list[int]) -> bool:
    if len(hidden_members) == 1:
        return True  # total minus the visible children gives it away
    # Hidden children under a visible total, each at least 1: if they sum to their number, all are 1.
    return parent not in hidden_members and sum(values[i] for i in hidden_members) == len(hidden_members)


def _next_smallest(values, children, hidden, parent) -> int | None:
    """The smallest non-zero visible child; the total itself only when no child is left."""
    candidates = [i for i in children if i not in hidden and values[i] > 0]
    if candidates:
        return min(candidates, key=lambda i: (values[i], i))
    return parent if parent not in hidden and values[parent] > 0 else None


def _widen(values, groups, hidden, leaks: dict[int, int]) -> bool:
    """Hide one more cell next to a recoverable one; False when nothing is left to hide."""
    for cell in sorted(leaks):
        for parent, children in groups:
            if cell == parent or cell in children:
                pick = _next_smallest(values, children, hidden, parent)
                if pick is not None:
                    hidden.add(pick)
                    return True
    return False


def _protect_differences(values: dict[str, list[int]], hidden: dict[str, set[int]], relations: tuple[Relation, ...],
                         groups, threshold: int) -> None:
    """Hide more cells of related columns until no small difference and no hidden cell is exposed."""
    columns = list(dict.fromkeys(c for relation in relations for c in relation))
    while True:
        for column in columns:
            hidden[column] = hidden_cells(values[column], groups, threshold, hidden[column])
        published = {c: [None if i in hidden[c] else v for i, v in enumerate(values[c])] for c in columns}
        exposed = exposed_cells(published, relations, groups, threshold)
        # Differences shown outright are fixed all at once (each by hiding its own row's part);
        # anything solved for, one at a time, as each new hidden cell changes what can be solved.
        shown = [cell for cell in sorted(exposed) if _shown(published, relations, cell)]
        fixed = [_hide_one_more(values, hidden, relations, groups, published, cell) for cell in shown]
        if not any(fixed) and not any(_hide_one_more(values, hidden, relations, groups, published, cell)
                                      for cell in sorted(exposed) if cell not in shown):
            return


def _shown(published, relations, cell: tuple[str, int]) -> bool:
    """A difference whose whole and part are both on show (not solved for)."""
    relation = next((r for r in relations if difference_name(r) == cell[0]), None)
    return relation is not None and all(published[c][cell[1]] is not None for c in relation)


def _hide_one_more(values, hidden, relations, groups, published, cell: tuple[str, int]) -> bool:
    """Hide one cell that makes ``cell`` unknown again; False when nothing near it is left to hide."""
    name, row = cell
    by_name = {difference_name(r): r for r in relations}
    if name not in by_name:  # a suppressed count solved for: widen its own margins, else hide its relatives
        if _widen(values[name], groups, hidden[name], {row: 0}):
            return True
        relatives = [c for r in relations if name in r for c in r if c != name]
        return any(_hide(values, hidden, c, row) for c in relatives)
    whole, part = by_name[name]
    if _shown(published, relations, cell):  # on show: hide the part (or the whole, if the part is 0)
        if row in hidden[whole] or row in hidden[part]:
            return True  # already hidden by a fix made since ``published`` was read
        return _hide(values, hidden, part, row) or _hide(values, hidden, whole, row)
    # Recovered through its margin group: make the next-smallest visible difference there unknown too.
    shown = differences(published, (whole, part))
    nearby = {j for parent, children in groups if row == parent or row in children for j in (parent, *children)}
    candidates = sorted((shown[j], j) for j in nearby if j != row and shown[j] is not None and shown[j] > 0)
    for _, j in candidates:
        if _hide(values, hidden, part, j) or _hide(values, hidden, whole, j):
            return True
    return (_hide(values, hidden, part, row) or _hide(values, hidden, whole, row)
            or _widen(values[part], groups, hidden[part], {row: 0})
            or _widen(values[whole], groups, hidden[whole], {row: 0}))


def _hide(values, hidden, column: str, row: int) -> bool:
    if row in hidden[column] or values[column][row] == 0:  # a zero describes nobody and hides nothing
        return False
    hidden[column].add(row)
    return True
