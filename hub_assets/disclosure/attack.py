"""The attacker's linear model of everything public, and each cell's feasible interval in it.

An attacker holds every public table of a release (and of the release before). The true counts
are unknowns ``x``; what the attacker knows about them is linear:

- a visible count ``r`` rounded to base ``b`` lies in ``[r - h, r + h]`` (``h = (b - 1) // 2``),
  and above its own table's threshold (smaller counts are never shown there; a table whose
  lineage reaches a stricter source has a higher one); a shown zero is exactly zero, and so is a
  count that is no multiple of ``b``; each release is read at the base and thresholds it recorded;
- a suppressed count is at least 1 (zeros are shown), with no upper bound of its own;
- each total equals the sum of its children, along every totalled dimension (``margins``);
- a part is at most its whole, in every row (``PublishSpec.parts``, rates' numerators);
- cells that name the same count of the same use case are equal, whichever table shows them: a
  table republishing another's column, the same population under several breakdowns (the total
  of a stacked table per breakdown, an overview's figure). Cells are matched by column name and
  by their coordinates (dimension = value, totals left out; a stacked ``dimension``/
  ``group_value`` pair reads as that dimension = value). Two such cells are linked unless their
  published forms contradict each other (both shown with different values, or a shown zero
  against a suppressed cell): then they count different people.

Each cell's interval is its minimum and maximum over that polyhedron, solved as linear programs
by HiGHS (``highspy``) and rounded inwards to whole numbers. The model splits into independent
components (cells linked by no relation are solved apart), each solved once and re-optimised per
cell from the previous basis; a cell whose values over the solutions already found span the width
it needs is wide enough without a solve of its own. Rates add nothing: they are recomputed from the published counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import highspy
import numpy as np
import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.margins import ALL, TOTAL, margin_groups
from hub_assets.disclosure.relations import Relations
from hub_assets.disclosure.rounding import half_width

Cell = tuple[str, int, str]  # (table, row, count column)
# A release's disclosure thresholds: one for every table, or each table's own by name
# (``governance.table_thresholds``).
Thresholds = int | Mapping[str, int]


def threshold_of(thresholds: Thresholds, table: str) -> int:
    """One table's threshold."""
    return thresholds if isinstance(thresholds, int) else int(thresholds[table])


class Span(tuple):
    """An interval seen over the solutions found so far, not solved for: the true interval
    contains it, so it proves a cell wide enough but bounds nothing from outside."""

STACK, STACKED = "dimension", "group_value"
EPS = 1e-6
SEEDS = 3


def coordinates(row: dict, dims: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What a row counts: its dimension = value pairs, totals (summed, or a mart's distinct ``All``)
    left out, a stacked pair unstacked. A stacked row whose value is ``all`` (a breakdown standing
    for the whole population, as ``dimension = all, group_value = all``) counts what the totals count."""
    coords = {d: str(row[d]) for d in dims if row[d] not in (TOTAL, ALL) and d not in (STACK, STACKED)}
    if STACK in dims and STACKED in dims and row[STACKED] != TOTAL and str(row[STACKED]).lower() != ALL.lower():
        coords[str(row[STACK])] = str(row[STACKED])
    return tuple(sorted(coords.items()))


def published_base(table: pl.DataFrame, counts: Iterable[str], base: int) -> int:
    """The rounding base a table was published with: ``base`` when every shown count is a multiple
    of it, else 1 (a table published exactly, before rounding was introduced)."""
    if base <= 1:
        return 1
    for count in counts:
        values = table[count].drop_nulls()
        if values.len() and (values % base != 0).any():
            return 1
    return base


@dataclass
class Model:
    """The attacker's linear system over the count cells of a set of public tables."""

    cells: list[Cell] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    shown: list[int | None] = field(default_factory=list)  # the published value, None when suppressed
    thresholds: list[int] = field(default_factory=list)  # each cell's table's threshold
    labels: list[str] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)  # (use case, column, coordinates)
    equalities: list[dict[int, float]] = field(default_factory=list)  # sum = 0
    at_most: list[dict[int, float]] = field(default_factory=list)  # sum <= 0
    links: list[dict[int, float]] = field(default_factory=list)  # the same count in two tables: a - b = 0
    parts: list[tuple[int, int, str]] = field(default_factory=list)  # (whole, part, what whole - part counts)
    index: dict[Cell, int] = field(default_factory=dict)

    def add(self, cell: Cell, shown: int | None, threshold: int, half: int, label: str, key: tuple) -> None:
        self.index[cell] = len(self.cells)
        self.cells.append(cell)
        self.shown.append(shown)
        self.thresholds.append(threshold)
        self.labels.append(label)
        self.keys.append(key)
        if shown is None:
            lo, hi = 1.0, math.inf
        elif shown == 0:
            lo, hi = 0.0, 0.0
        else:
            lo, hi = float(max(shown - half, 0)), float(shown + half)
            if hi >= threshold + 1:  # a shown count is above its table's threshold
                lo = max(lo, threshold + 1.0)
        self.lower.append(lo)
        self.upper.append(hi)

    def neighbours(self) -> dict[int, set[int]]:
        """The cells each cell shares a relation with."""
        near: dict[int, set[int]] = defaultdict(set)
        for row in (*self.equalities, *self.at_most, *self.links):
            for v in row:
                near[v].update(row)
        return near


def build_model(tables: Mapping[str, tuple[PublishedMart, pl.DataFrame]], thresholds: Thresholds, base: int | None,
                assumed_base: int = 1) -> Model:
    """The attacker's system over ``tables`` (by name), published with ``thresholds`` (one for
    all, or each table's) and rounding ``base``; when the base was not recorded (None), each table
    is read at the base it shows (``published_base`` of ``assumed_base``)."""
    model = Model()
    for name in sorted(tables):
        mart, table = tables[name]
        spec = mart.spec
        threshold = threshold_of(thresholds, name)
        rows = table.to_dicts()
        table_base = base if base is not None else published_base(table, spec.counts, assumed_base)
        for i, row in enumerate(rows):
            where = ", ".join(f"{d}={row[d]}" for d in spec.dimensions) or "the table"
            coords = coordinates(row, spec.key_dimensions)
            for count in spec.counts:
                hidden = bool(row.get(f"{count}_suppressed")) or row[count] is None
                shown = None if hidden else int(row[count])
                # A count that is no multiple of the base was not rounded: the reader takes it as exact.
                half = half_width(table_base) if shown is None or shown % table_base == 0 else 0
                model.add((name, i, count), shown, threshold, half,
                          f"{name}.{count} at {where}", (mart.use_case, count, coords))
        for parent, children in margin_groups(rows, spec.key_dimensions):
            for count in spec.counts:
                eq = {model.index[(name, parent, count)]: 1.0}
                for child in children:
                    eq[model.index[(name, child, count)]] = eq.get(model.index[(name, child, count)], 0.0) - 1.0
                model.equalities.append(eq)
        for parent, children in all_groups(rows, spec):
            for count in spec.counts:
                whole = model.index[(name, parent, count)]
                members = [model.index[(name, child, count)] for child in children]
                model.at_most.extend({m: 1.0, whole: -1.0} for m in members)  # each group's people are among All's
                eq = {whole: 1.0}
                for m in members:
                    eq[m] = eq.get(m, 0.0) - 1.0
                model.at_most.append(eq)  # and All counts each of them once: at most the groups' sum
        for whole, part in spec.parts:
            for i, row in enumerate(rows):
                w, p = model.index[(name, i, whole)], model.index[(name, i, part)]
                model.at_most.append({p: 1.0, w: -1.0})
                where = ", ".join(f"{d}={row[d]}" for d in spec.dimensions) or "the table"
                model.parts.append((w, p, f"{name}.{whole} - {part} at {where}"))
    for row, kind, _ in Relations(tables, lambda t, i, c: model.index[(t, i, c)]).rows():
        (model.equalities if kind == "=" else model.at_most).append(row)
    _link_same_counts(model)
    return model


def all_groups(rows: list[dict], spec) -> list[tuple[int, list[int]]]:
    """Every ``All`` row (a distinct count over a dimension whose groups overlap) with the rows of
    its groups: the rows that agree with it on every other dimension and name a group there."""
    dims = spec.key_dimensions
    out = []
    for pos, dim in enumerate(dims):
        if dim not in spec.overlapping:
            continue
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if row[dim] not in (TOTAL, ALL):
                groups[tuple(row[d] for j, d in enumerate(dims) if j != pos)].append(i)
        for i, row in enumerate(rows):
            if row[dim] == ALL:
                members = groups.get(tuple(row[d] for j, d in enumerate(dims) if j != pos))
                if members:
                    out.append((i, members))
    return out


def _link_same_counts(model: Model) -> None:
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for v, key in enumerate(model.keys):
        by_key[key].append(v)
    for members in by_key.values():
        if len(members) < 2:
            continue
        first = members[0]  # several in one table: the totals of a stacked table's breakdowns
        for other in members[1:]:
            a, b = model.shown[first], model.shown[other]
            if (a is not None and b is not None and a != b) or (a is None and b == 0) or (b is None and a == 0):
                continue  # different people: the published figures contradict each other
            model.links.append({first: 1.0, other: -1.0})


def components(model: Model) -> list[tuple[list[int], list[tuple[dict[int, float], str]]]]:
    """Cells connected by any relation, with their relations; cells in no relation stand alone."""
    parent = list(range(len(model.cells)))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for row in (*model.equalities, *model.at_most, *model.links):
        vs = list(row)
        for v in vs[1:]:
            ra, rb = find(vs[0]), find(v)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for v in range(len(model.cells)):
        groups[find(v)].append(v)
    relations: dict[int, list[tuple[dict[int, float], str]]] = defaultdict(list)
    for kind, rows in (("=", model.equalities), ("<=", model.at_most), ("link", model.links)):
        for row in rows:
            relations[find(next(iter(row)))].append((row, kind))
    return [(groups[k], relations[k]) for k in sorted(groups)]


class Solver:
    """One HiGHS instance, reused for every component (its banner prints once)."""

    def __init__(self) -> None:
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        # Each solve changes only the objective: primal simplex from the last basis takes a few
        # iterations, where presolve and the default dual simplex start over (3x slower, measured
        # on the 10k city's largest component: 16 ms against 54 ms a solve).
        self.highs.setOptionValue("presolve", "off")
        self.highs.setOptionValue("solver", "simplex")
        self.highs.setOptionValue("simplex_strategy", 4)
        self.solves = 0
        self.witnessed = 0  # targets shown wide enough by solutions found for others
        self.solved: dict = {}  # component -> its targets' intervals, for audits that share this solver
        self.points: list[np.ndarray] = []

    def intervals(self, model: Model, members: list[int], rows: list[tuple[dict[int, float], str]],
                  targets: list[tuple[object, dict[int, float], int]]) -> dict[object, tuple[float, float]]:
        """Whole-number [min, max] of each target over one component: its cells ``members`` and its
        relations ``rows`` ((coefficients, ``"="``, ``"<="`` or ``"link"``: each ``... 0``)). A target is a
        key, a linear function of the cells ({cell: coefficient}) and the width it needs.

        Every solution found is a point the attacker cannot rule out; a target that already spans
        the width it needs over those points passes without a solve of its own, and its interval
        is given as that span (the true interval is at least as wide). Every target narrower than
        its width is solved exactly. Raises when the component has no solution (the published
        figures contradict each other)."""
        if not rows:  # a cell in no relation: its own published bounds
            return {key: (model.lower[v], model.upper[v]) for key, objective, _ in targets for v in objective}
        local = {v: j for j, v in enumerate(members)}
        h = self._pass(model, members, rows, local)
        self.points: list[np.ndarray] = []
        self._stacked: np.ndarray | None = None
        # First witnesses: the extremes of the targets' sum, and of sums with mixed signs (a fixed
        # pattern, so the audit is the same every run), which push many targets apart at once.
        for seed in range(SEEDS):
            combined: dict[int, float] = defaultdict(float)
            for i, (_, objective, _) in enumerate(targets):
                sign = 1.0 if seed == 0 or (i * (seed + 2) + seed) % 3 else -1.0
                for v, a in objective.items():
                    combined[v] += sign * a
            self._extremes(h, dict(combined), model.labels[members[0]], local)
        out = {}
        for key, objective, needed in targets:
            span = self._span(objective, local)
            if span is not None and span[1] - span[0] >= needed:
                out[key] = Span(span)
                self.witnessed += 1
            else:
                out[key] = self._extremes(h, objective, model.labels[next(iter(objective))], local)
        return out

    def _pass(self, model: Model, members: list[int], rows, local: dict[int, int]):
        rows_eq = [r for r, kind in rows if kind != "<="]
        rows_ub = [r for r, kind in rows if kind == "<="]
        h = self.highs
        h.clearModel()
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        n = len(members)
        lp.num_col_ = n
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.array([model.lower[v] for v in members])
        lp.col_upper_ = np.array([model.upper[v] if math.isfinite(model.upper[v]) else inf for v in members])
        matrix_rows = [*rows_eq, *rows_ub]
        lp.num_row_ = len(matrix_rows)
        lp.row_lower_ = np.array([0.0] * len(rows_eq) + [-inf] * len(rows_ub))
        lp.row_upper_ = np.zeros(len(matrix_rows))
        starts, index, value = [0], [], []
        for row in matrix_rows:
            for v, a in sorted(row.items()):
                index.append(local[v])
                value.append(a)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value)
        h.passModel(lp)
        return h

    def _span(self, objective: dict[int, float], local: dict[int, int]) -> tuple[float, float] | None:
        """Whole-number [min, max] of a linear function over the solutions found so far."""
        if not self.points:
            return None
        columns = [local[v] for v in objective]
        coefficients = np.array(list(objective.values()))
        if self._stacked is None or len(self._stacked) != len(self.points):
            self._stacked = np.vstack(self.points)
        values = self._stacked[:, columns] @ coefficients
        return math.ceil(values.min() - EPS), math.floor(values.max() + EPS)

    def _extremes(self, h, objective: dict[int, float], label: str, local: dict[int, int]) -> tuple[float, float]:
        """Whole-number [min, max] of a linear function of the cells, re-optimised from the last basis."""
        for v, a in objective.items():
            h.changeColCost(local[v], a)
        low = self._optimum(h, 1.0, label)
        for v, a in objective.items():
            h.changeColCost(local[v], -a)
        high = -self._optimum(h, -1.0, label)
        for v in objective:
            h.changeColCost(local[v], 0.0)
        # A difference between releases can be unbounded either way when a cell has no bound of its own.
        return ((math.ceil(low - EPS) if math.isfinite(low) else -math.inf),
                (math.floor(high + EPS) if math.isfinite(high) else math.inf))

    def _optimum(self, h, sign: float, label: str) -> float:
        """The minimum of the current objective (``sign`` -1 when it is a negated maximum)."""
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            self.points.append(np.array(h.getSolution().col_value))
            return h.getInfo().objective_function_value
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return -math.inf
        why = h.modelStatusToString(status)
        raise ValueError(f"the published figures around {label} contradict each other ({why})")
