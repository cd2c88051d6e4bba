"""The attacker audit of a release: every suppressed cell's feasible interval over every public table
of this release, and every cell's change since the previous release.

A release fails when, for an attacker holding every public table of this release and the previous
one (``attack``):

- a suppressed cell is determined exactly;
- a suppressed cell that may be small (its interval reaches down to its table's threshold or
  below) lies in an interval narrower than ``disclosure.protection_width``;
- a part subtracted from its whole (a count of people too) may be small, yet lies in an interval
  narrower than the protection width or is determined exactly from 1 to the table's threshold;
- the change of a cell between the two releases is determined exactly and is from 1 to the
  table's threshold (a late drop of a few youth read by subtraction).

Each table is held to its own threshold (``governance.table_thresholds``: higher for a table whose
lineage reaches a stricter source); a suppressed cell is still at least 1, whatever its table's.

A difference whose part and whole are both shown is read off their published intervals; its
table's own suppression already solved it over the margins with the counts taken as exact, and
rounding only widens what a reader knows. Every other interval is solved (``attack``).

The two releases are two systems of the same kind; nothing ties a cell's old count to its new one
(people are added, corrected and re-linked between releases), so a change lies between
``new_min - old_max`` and ``new_max - old_min``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.attack import Cell, Model, Solver, Span, Thresholds, build_model, components, threshold_of

Interval = tuple[float, float]


@dataclass(frozen=True)
class Publication:
    """How a release was published (its ``release.json``): the threshold, each table's where it
    recorded them (a release that recorded one number held every table to it), and the rounding
    base (None for a release that did not record it: then read off its tables)."""

    min_cell_size: int
    rounding_base: int | None
    table_min_cell_sizes: Mapping[str, int] = field(default_factory=dict)

    def threshold_of(self, table: str) -> int:
        return int(self.table_min_cell_sizes.get(table, self.min_cell_size))


@dataclass
class ReleaseAudit:
    """What the attacker audit found; ``exposed`` are the cells of this release to protect further."""

    threshold: Thresholds
    protection_width: int
    suppressed: dict[str, Interval] = field(default_factory=dict)  # label -> interval
    failures: list[str] = field(default_factory=list)
    exposed: list[Cell] = field(default_factory=list)
    changes_compared: int = 0
    tables: int = 0
    previous_tables: int = 0
    solves: int = 0
    witnessed: int = 0
    rounds: int = 0  # audits the protection ran, this one included (0: audited on its own)
    protection_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, cell: Cell, message: str) -> None:
        self.failures.append(message)
        self.exposed.append(cell)

    def failures_of(self, table: str) -> list[str]:
        """The failures about cells of one table."""
        return [f for f, cell in zip(self.failures, self.exposed) if cell[0] == table]

    def narrowest(self) -> tuple[str, Interval] | None:
        if not self.suppressed:
            return None
        return min(self.suppressed.items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0]))

    def metadata(self) -> dict:
        narrowest = self.narrowest()
        widths = [hi - lo for lo, hi in self.suppressed.values()]
        return {
            "audit_ok": self.ok,
            "audit_tables": self.tables,
            "audit_previous_tables": self.previous_tables,
            "audit_suppressed_cells": len(self.suppressed),
            "audit_exactly_determined": sum(1 for w in widths if w == 0),
            "audit_narrower_than_protection_width": sum(1 for w in widths if w < self.protection_width),
            "audit_narrowest_interval": (f"{narrowest[0]} in [{_num(narrowest[1][0])}, {_num(narrowest[1][1])}]"
                                         if narrowest else "no suppressed cell"),
            "audit_unbounded_intervals": sum(1 for w in widths if w == float("inf")),
            "audit_changes_compared": self.changes_compared,
            "audit_protection_width": self.protection_width,
            "audit_failures": len(self.failures),
            "audit_first_failures": "\n".join(self.failures[:20]),
            "audit_lp_solves": self.solves,
            "audit_intervals_wide_by_witness": self.witnessed,
            "audit_seconds": round(self.seconds, 2),
            **({"protection_rounds": self.rounds, "protection_seconds": round(self.protection_seconds, 2)}
               if self.rounds else {}),
        }


def _num(x: float) -> str:
    return "inf" if x == float("inf") else str(int(x))


def audit_tables(published: Mapping[str, tuple[PublishedMart, pl.DataFrame]],
                 previous: Mapping[str, tuple[PublishedMart, pl.DataFrame]], thresholds: Thresholds,
                 rounding_base: int, protection_width: int, solver: Solver | None = None,
                 previous_publication: Publication | None = None) -> ReleaseAudit:
    """The audit (module docstring) of tables published with ``thresholds`` (one for all, or each
    table's by name); ``solver`` may be shared by successive audits of one protection, which then
    solve again only the components that changed. The previous release is read with the thresholds
    and rounding base it was published with (``previous_publication``; when not given, this
    release's thresholds and the base its tables show)."""
    started = time.perf_counter()
    audit = ReleaseAudit(thresholds, protection_width, tables=len(published), previous_tables=len(previous))
    solver = solver or Solver()
    solves, witnessed = solver.solves, solver.witnessed
    new = build_model(published, thresholds, rounding_base)
    if previous_publication is None:
        old_thresholds, old_base = {n: threshold_of(thresholds, n) for n in previous}, None
    else:
        old_thresholds = {n: previous_publication.threshold_of(n) for n in previous}
        old_base = previous_publication.rounding_base
    old = build_model(previous, old_thresholds, old_base, rounding_base) if previous else Model()
    pairs = _counterparts(new, published, old, previous)
    # A suppressed cell needs the protection width (and cannot be exact); a shown cell seen in
    # both releases needs only not to be exact.
    wanted = {v: ({v: 1.0}, protection_width if shown is None else 1)
              for v, shown in enumerate(new.shown) if shown is None or v in pairs}
    new_iv: dict = _solve(solver, new, wanted)
    new_iv.update(_differences(solver, new, new_iv, protection_width))
    old_iv = _solve(solver, old, {w: ({w: 1.0}, 1) for w in pairs.values()})
    for v, shown in enumerate(new.shown):
        if shown is not None:
            continue
        lo, hi = new_iv[v]
        label = new.labels[v]
        audit.suppressed[label] = (lo, hi)
        if lo == hi:
            audit.fail(new.cells[v], f"suppressed {label} is determined exactly (it is {_num(lo)})")
        elif lo <= new.thresholds[v] and hi - lo < protection_width:
            audit.fail(new.cells[v], f"suppressed {label} lies in [{_num(lo)}, {_num(hi)}], narrower than the "
                                     f"protection width {protection_width}")
    for key in sorted(k for k in new_iv if isinstance(k, tuple)):
        lo, hi = new_iv[key]
        w, p, label = new.parts[key[1]]
        threshold = new.thresholds[w]  # a part and its whole are of one table
        exact_and_safe = lo == hi and not 1 <= lo <= threshold
        if not exact_and_safe and lo <= threshold and hi >= 1 and hi - lo < protection_width:
            hide = p if new.shown[p] not in (None, 0) else w
            audit.fail(new.cells[hide], f"{label} (a count of people) lies in [{_num(lo)}, {_num(hi)}]"
                                        + (f" (threshold {threshold})" if lo == hi else
                                           f", narrower than the protection width {protection_width}"))
    for v, w in sorted(pairs.items()):
        audit.changes_compared += 1
        (lo, hi), (old_lo, old_hi) = new_iv[v], old_iv[w]
        low, high = lo - old_hi, hi - old_lo
        # A change of a few people, by the stricter of the cell's thresholds in the two releases.
        if low == high and 1 <= abs(low) <= max(new.thresholds[v], old.thresholds[w]):
            audit.fail(new.cells[v], f"{new.labels[v]} changed by exactly {_num(low)} since the previous release "
                                     f"(now in [{_num(lo)}, {_num(hi)}], before in [{_num(old_lo)}, {_num(old_hi)}])")
    audit.solves, audit.witnessed = solver.solves - solves, solver.witnessed - witnessed
    audit.seconds = time.perf_counter() - started
    return audit


def _counterparts(new: Model, published, old: Model, previous) -> dict[int, int]:
    """This release's cells that the previous release also published: {new cell: old cell}."""
    def at(tables, model: Model) -> dict[tuple, int]:
        out = {}
        for name, (mart, table) in tables.items():
            dims = mart.spec.dimensions
            for i, row in enumerate(table.select(dims).iter_rows() if dims else [()] * table.height):
                for count in mart.spec.counts:
                    v = model.index.get((name, i, count))
                    if v is not None:
                        out[(name, tuple(map(str, row)), count)] = v
        return out

    old_at = at(previous, old)
    return {v: old_at[key] for key, v in at(published, new).items() if key in old_at}


def _differences(solver: Solver, model: Model, cells: dict, protection_width: int) -> dict:
    """The interval of each part subtracted from its whole that may be a small count of people.

    Solved only where it could fail: ``whole = difference + part``, so the difference is at least
    as wide as the whole's interval less the part's (and the other way round); where that already
    reaches the protection width, or the difference cannot lie in 1..threshold (its table's), no
    solve is needed.
    A difference whose two counts are both shown is read off their published intervals (their
    table's suppression solved it with the counts taken as exact; rounding only widens it).

    Only bounds known to hold decide that a difference needs no solve: a cell's interval seen over
    witness points (``Span``) lies inside its true interval, so it stands in for the true one only
    where a narrower interval is the cautious reading (a lower bound on a width)."""
    def published(v: int) -> Interval:
        return model.lower[v], model.upper[v]

    def outer(v: int) -> Interval:  # contains the true interval
        return published(v) if v not in cells or isinstance(cells[v], Span) else cells[v]

    def inner(v: int) -> Interval:  # inside the true interval
        return cells.get(v, published(v))

    def width(interval: Interval) -> float:
        return interval[1] - interval[0]

    def wider_by(a: Interval, b: Interval) -> float:  # a lower bound on (true width of a) - (true width of b)
        return width(a) - width(b) if math.isfinite(width(b)) else -math.inf

    out, wanted = {}, {}
    for k, (w, p, _) in enumerate(model.parts):
        both_shown = model.shown[w] is not None and model.shown[p] is not None
        (w_lo, w_hi), (p_lo, p_hi) = (published(w), published(p)) if both_shown else (outer(w), outer(p))
        low, high = w_lo - p_hi, w_hi - p_lo
        if low > model.thresholds[w] or high < 1:
            continue
        if both_shown:
            out[("difference", k)] = (low, high)
            continue
        at_least = max(wider_by(inner(w), outer(p)) if model.shown[w] is None else 0,
                       wider_by(inner(p), outer(w)) if model.shown[p] is None else 0)
        if at_least >= protection_width:
            continue
        wanted[("difference", k)] = ({w: 1.0, p: -1.0}, protection_width)
    out.update(_solve(solver, model, wanted))
    return out


def _solve(solver: Solver, model: Model, targets: dict[object, tuple[dict[int, float], int]]) -> dict[object, Interval]:
    """Each target's interval (a linear function of the cells and the width it needs), component
    by component, targets in the order given."""
    if not targets:
        return {}
    parts = components(model)
    home = {v: c for c, (members, _) in enumerate(parts) for v in members}
    by_component: dict[int, list] = defaultdict(list)
    for key, (objective, needed) in targets.items():
        by_component[home[next(iter(objective))]].append((key, objective, needed))
    out: dict[object, Interval] = {}
    for c in sorted(by_component):
        members, rows = parts[c]
        # A component unchanged since an earlier audit by this solver (a protection round that
        # suppressed cells elsewhere) has the same intervals.
        key = (tuple((model.cells[v], model.lower[v], model.upper[v]) for v in members),
               tuple((tuple(sorted(row.items())), kind) for row, kind in rows),
               tuple((k, tuple(sorted(o.items())), n) for k, o, n in by_component[c]))
        if key in solver.solved:
            out.update(solver.solved[key])
            continue
        try:
            out.update(solver.intervals(model, members, rows, by_component[c]))
        except ValueError:
            # Two cells matched as the same count are not (their published figures cannot both
            # hold): solve without the matches, each table on its own terms.
            unlinked = [(row, kind) for row, kind in rows if kind != "link"]
            if len(unlinked) == len(rows):
                raise
            out.update(solver.intervals(model, members, unlinked, by_component[c]))
        solver.solved[key] = {k: out[k] for k, _, _ in by_component[c]}
    return out
