"""Protecting a release as one linked problem: every public table of a release together.

1. Each mart becomes its cube (cells and margins, in its declared order) and gets its own
   table's pattern (``suppression``: primary suppression of 1..threshold, its own table's
   threshold, complementary suppression over margins and parts).
2. Cells that name the same count in several tables (``attack.coordinates``: a republished
   column, one population under several breakdowns, an overview's figure) and hold the same
   value are suppressed together or not at all.
3. Every visible count is rounded (``rounding``), rates recomputed from the rounded counts.
4. The attacker audit (``release_audit``) runs over all tables of this release and the previous
   one. Each cell it finds exposed gets one more suppression: the cell itself when it is shown
   (its change since the last release reads exactly), else the visible non-zero cell nearest to
   it in the relations (sharing a margin, a row of parts, or a link; then their neighbours)
   with the smallest count, ties broken by table name, row (declared order) and column order.
   Steps 2-4 repeat until the audit passes.

Every choice is made in a declared order from the data alone, never by hash or thread order:
the same marts and the same previous release give the same tables byte for byte.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence

import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.attack import Cell, Solver, Thresholds, build_model, coordinates, threshold_of
from hub_assets.disclosure.margins import _rate_scale, validate_cells
from hub_assets.disclosure.release_audit import Publication, ReleaseAudit, audit_tables
from hub_assets.disclosure.rounding import round_counts
from hub_assets.disclosure.suppression import cube, disclosure_settings, render, table_pattern

MAX_ROUNDS = 500


def protect_release(marts: Sequence[tuple[PublishedMart, pl.DataFrame]], thresholds: Thresholds,
                    previous: Mapping[str, pl.DataFrame],
                    previous_publication: Publication | None = None) -> dict[str, pl.DataFrame]:
    """Given every published mart's cells for this release, the thresholds they are published with
    (one for all, or each mart's by name: ``governance.table_thresholds``) and the previous
    release's public tables (by mart name; empty when none) with how they were published, return
    the table to publish per mart name."""
    tables, _ = protect_with_audit(marts, thresholds, previous, previous_publication)
    return tables


def protect_with_audit(marts: Sequence[tuple[PublishedMart, pl.DataFrame]], thresholds: Thresholds,
                       previous: Mapping[str, pl.DataFrame], previous_publication: Publication | None = None
                       ) -> tuple[dict[str, pl.DataFrame], ReleaseAudit]:
    """``protect_release`` and the audit its tables passed."""
    started = time.perf_counter()
    settings = disclosure_settings()
    by_name = {mart.name: mart for mart, _ in marts}
    truth = {mart.name: cube(cells, mart.spec, f"mart {mart.name}") for mart, cells in marts}
    scales = {mart.name: _scales(mart, validate_cells(cells, mart.spec, f"mart {mart.name}")) for mart, cells in marts}
    hidden = {name: table_pattern(truth[name], by_name[name].spec, threshold_of(thresholds, name))
              for name in sorted(truth)}
    earlier = {name: (by_name[name], table) for name, table in previous.items() if name in by_name}
    twins = _same_counts(by_name, truth)
    solver = Solver()  # shared by the rounds: a component no round changed is not solved again
    for rounds in range(1, MAX_ROUNDS + 1):
        _suppress_together(hidden, truth, twins)
        published = {name: round_counts(render(truth[name], by_name[name].spec, hidden[name]), by_name[name].spec,
                                        settings.rounding_base, scales[name]) for name in sorted(truth)}
        audit = audit_tables({n: (by_name[n], t) for n, t in published.items()}, earlier, thresholds,
                             settings.rounding_base, settings.protection_width, solver, previous_publication)
        if audit.ok:
            audit.rounds, audit.protection_seconds = rounds, time.perf_counter() - started
            return published, audit
        if not _protect_further(audit, hidden, truth, by_name, published, thresholds, settings.rounding_base):
            raise ValueError("the release cannot be protected: nothing is left to suppress near "
                             + "; ".join(audit.failures[:5]))
    raise ValueError(f"the release is still exposed after {MAX_ROUNDS} rounds of suppression: "
                     + "; ".join(audit.failures[:5]))


def audit_release(published: Mapping[str, tuple[PublishedMart, pl.DataFrame]],
                  previous: Mapping[str, tuple[PublishedMart, pl.DataFrame]], thresholds: Thresholds,
                  publication: Publication | None = None,
                  previous_publication: Publication | None = None) -> ReleaseAudit:
    """The attacker audit over all tables of this release and the previous one, each read as it
    was published (``publication``: by default this release with the settings in force)."""
    settings = disclosure_settings()
    base = publication.rounding_base if publication and publication.rounding_base else settings.rounding_base
    return audit_tables(published, previous, thresholds, base, settings.protection_width,
                        previous_publication=previous_publication)


def _scales(mart: PublishedMart, cells: pl.DataFrame) -> dict[str, float | None]:
    return {rate: _rate_scale(cells, rate, num, den) for rate, num, den in mart.spec.rates}


def _same_counts(by_name: Mapping[str, PublishedMart], truth: Mapping[str, pl.DataFrame]) -> list[list[Cell]]:
    """Groups of cells in different tables that name the same count and hold the same value."""
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for name in sorted(truth):
        spec = by_name[name].spec
        for i, row in enumerate(truth[name].iter_rows(named=True)):
            coords = coordinates(row, spec.key_dimensions)
            for count in spec.counts:
                groups[(by_name[name].use_case, count, coords, int(row[count]))].append((name, i, count))
    return [cells for (_, _, _, value), cells in groups.items() if value > 0 and len(cells) > 1]


def _suppress_together(hidden: dict[str, dict[str, set[int]]], truth, twins: list[list[Cell]]) -> None:
    changed = True
    while changed:
        changed = False
        for cells in twins:
            if any(row in hidden[name][count] for name, row, count in cells):
                for name, row, count in cells:
                    if row not in hidden[name][count]:
                        hidden[name][count].add(row)
                        changed = True


def _protect_further(audit: ReleaseAudit, hidden, truth, by_name, published, thresholds: Thresholds,
                     base: int) -> bool:
    """One more suppression per exposed cell (none twice near each other in one round)."""
    model = build_model({n: (by_name[n], t) for n, t in published.items()}, thresholds, base)
    near = model.neighbours()
    picked: set[int] = set()
    for cell in sorted(set(audit.exposed)):
        v = model.index[cell]
        if v in picked or near.get(v, set()) & picked:
            continue
        pick = v if model.shown[v] not in (None, 0) else _cheapest_near(v, model, near, truth, by_name)
        if pick is not None:
            picked.add(pick)
    for v in picked:
        name, row, count = model.cells[v]
        hidden[name][count].add(row)
    return bool(picked)


def _cheapest_near(v: int, model, near: dict[int, set[int]], truth, by_name) -> int | None:
    """The visible non-zero cell with the smallest count among the nearest ring around ``v``."""
    seen, ring = {v}, {v}
    while ring:
        ring = {w for u in ring for w in near.get(u, ())} - seen
        seen |= ring
        visible = [w for w in ring if model.shown[w] not in (None, 0)]
        if visible:
            return min(visible, key=lambda w: _cost(model.cells[w], truth, by_name))
    return None


def _cost(cell: Cell, truth, by_name) -> tuple:
    name, row, count = cell
    return int(truth[name][count][row]), name, row, by_name[name].spec.counts.index(count)
