"""Could an attacker recover a suppressed cell from what is published? Solved, not guessed.

The attacker sees every visible cell and knows each total equals the sum of its children. The
suppressed cells are the unknowns of those linear equations. A suppressed cell is recovered when
its value is uniquely determined, found two ways:

- exact elimination: reduce the equations to reduced row echelon form over the rationals; a
  cell is determined when its unit vector lies in the row space (a pivot row with no other
  unknown);
- interval reasoning: the attacker also knows a suppressed cell is at least 1 (zeros are shown)
  and counts are whole numbers; propagating these bounds through the equations can pin a cell
  (e.g. two suppressed cells that must sum to 2 are both 1).
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

Equation = tuple[dict, int]  # ({unknown: coefficient}, right-hand side); unknowns are sortable keys


def equation(terms) -> Equation | None:
    """``sum(sign * cell) = 0`` over ``(unknown key, sign, value or None)`` terms, with the known
    cells moved to the right-hand side; None when nothing in it is unknown."""
    coeffs: dict = {}
    rhs = 0
    for key, sign, value in terms:
        if value is None:
            coeffs[key] = coeffs.get(key, 0) + sign
        else:
            rhs -= sign * value
    coeffs = {k: v for k, v in coeffs.items() if v}
    return (coeffs, rhs) if coeffs else None


def equations_over_hidden(values: list[int | None], groups: list[tuple[int, list[int]]],
                          key=lambda cell: cell) -> list[Equation]:
    """total - sum(children) = 0, with visible cells moved to the right-hand side; each unknown
    named ``key(cell)`` (the cell's row by default)."""
    equations = [equation([(key(parent), 1, values[parent]), *((key(c), -1, values[c]) for c in children)])
                 for parent, children in groups]
    return [e for e in equations if e]


def recoverable_cells(values: list[int | None], groups: list[tuple[int, list[int]]]) -> dict[int, int]:
    """Suppressed cells (None) whose value the published cells and margins determine: {cell: value}."""
    return determined(equations_over_hidden(values, groups), {i: 1 for i, v in enumerate(values) if v is None})


def determined(equations: list[Equation], lowest: dict) -> dict:
    """Unknowns the equations fix, by elimination or by whole-number bounds: {unknown: value}.

    ``lowest`` holds every unknown with the least value an attacker knows it has (1 for a
    suppressed count, since zeros are shown; 0 for a difference of two counts)."""
    found = _determined_by_elimination(equations)
    for cell, value in pinned_by_intervals(equations, lowest).items():
        found.setdefault(cell, value)
    return found


def _determined_by_elimination(equations: list[Equation]) -> dict[int, int]:
    pivots: dict[int, tuple[dict[int, Fraction], Fraction]] = {}
    for coeffs, rhs in equations:
        row = {k: Fraction(v) for k, v in coeffs.items()}
        value = Fraction(rhs)
        for col, (prow, pval) in pivots.items():
            factor = row.get(col)
            if factor:
                row, value = _subtract(row, value, prow, pval, factor)
        if not row:
            continue
        col = min(row)
        lead = row[col]
        row = {k: v / lead for k, v in row.items()}
        value /= lead
        for other, (prow, pval) in list(pivots.items()):
            factor = prow.get(col)
            if factor:
                pivots[other] = _subtract(prow, pval, row, value, factor)
        pivots[col] = (row, value)
    return {col: int(val) for col, (row, val) in pivots.items() if len(row) == 1}


def _subtract(row, value, prow, pval, factor):
    out = dict(row)
    for k, v in prow.items():
        out[k] = out.get(k, 0) - factor * v
        if out[k] == 0:
            del out[k]
    return out, value - factor * pval


def pinned_by_intervals(equations: list[Equation], lowest: dict, passes: int = 100) -> dict:
    """Unknowns whose whole-number bounds meet: propagate [lowest, inf) through the equations,
    revisiting an equation only when a bound of one of its unknowns has moved."""
    lo = {c: float(v) for c, v in lowest.items()}
    hi = {c: math.inf for c in lowest}
    using: dict = {}
    for index, (coeffs, _) in enumerate(equations):
        for cell in coeffs:
            using.setdefault(cell, []).append(index)
    queue, queued = deque(range(len(equations))), set(range(len(equations)))
    budget = passes * len(equations)  # as many visits as ``passes`` sweeps over every equation
    while queue and budget > 0:
        budget -= 1
        index = queue.popleft()
        queued.discard(index)
        coeffs, rhs = equations[index]
        # Each term's least and greatest contribution; the rest of the equation is the total
        # minus the term itself (infinite terms counted apart so they can be taken out again).
        least = [b * (lo[k] if b > 0 else hi[k]) for k, b in coeffs.items()]
        most = [b * (hi[k] if b > 0 else lo[k]) for k, b in coeffs.items()]
        least_sum, least_inf = _split(least)
        most_sum, most_inf = _split(most)
        for (cell, a), own_least, own_most in zip(coeffs.items(), least, most):
            rest_min = _rest(least_sum, least_inf, own_least, -math.inf)
            rest_max = _rest(most_sum, most_inf, own_most, math.inf)
            # a*x = rhs - rest, so x lies between (rhs - rest_max)/a and (rhs - rest_min)/a
            bounds = sorted(((rhs - rest_max) / a, (rhs - rest_min) / a))
            new_lo = max(lo[cell], math.ceil(bounds[0]) if math.isfinite(bounds[0]) else lo[cell])
            new_hi = min(hi[cell], math.floor(bounds[1]) if math.isfinite(bounds[1]) else hi[cell])
            if new_lo != lo[cell] or new_hi != hi[cell]:
                lo[cell], hi[cell] = new_lo, new_hi
                for other in using[cell]:
                    if other not in queued:
                        queue.append(other)
                        queued.add(other)
    return {c: int(lo[c]) for c in lowest if lo[c] == hi[c]}


def _split(terms: list[float]) -> tuple[float, int]:
    return sum(t for t in terms if math.isfinite(t)), sum(1 for t in terms if not math.isfinite(t))


def _rest(total: float, infinite: int, own: float, infinity: float) -> float:
    if infinite - (not math.isfinite(own)):
        return infinity
    return total - (own if math.isfinite(own) else 0.0)
