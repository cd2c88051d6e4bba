"""Linear relations between published counts that hold by how the marts are built, declared per
mart in ``meta.publish.relations``: what a reader who knows how the tables are made can use on
top of margins, parts and republished counts (``attack``).

A relation compares two linear expressions (``==``, ``<=`` or ``>=``) and applies to every row of
its mart that is not a total (``Total``) or a distinct count over overlapping groups (``All``).
In an expression:

- a count column of the mart is that row's cell; a dimension is that row's value (a number where
  it reads as one), usable as a coefficient;
- ``sum(<mart>.<count> [* coefficient] [, condition])`` is the sum of that count over the other
  mart's rows (totals and ``All`` rows left out) that agree with this row on every dimension the
  two share and meet ``condition``; inside it, bare names are that mart's dimensions and
  ``row.<dimension>`` is this row's. A group with no row counts nobody, so its cells are 0.

For example, ``provider_participations == sum(summer_providers_per_youth.participants *
providers_used)``: the youth-provider pairs of a summer, counted from how many providers each youth
used. A relation naming a mart that is not among the tables attacked is left out (that reader
does not hold it). A relation that does not hold makes the published figures contradict each
other, and the audit fails the release naming them: declare only what holds by construction.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

from hub_assets.disclosure.margins import ALL, TOTAL

Linear = tuple[dict[int, float], float]  # {cell: coefficient}, constant
COMPARE = {ast.Eq: "==", ast.LtE: "<=", ast.GtE: ">="}
CONDITIONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
              ast.Gt: operator.gt, ast.GtE: operator.ge}


def parse(text: str, where: str) -> ast.Compare:
    """A declared relation, checked for its form (names are checked against the tables attacked)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"{where}: meta.publish.relations entry {text!r} is not an expression: {error.msg}") from None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in COMPARE):
        raise ValueError(f"{where}: meta.publish.relations entry {text!r} must compare two sides with ==, <= or >=")
    return tree


def is_margin(row: dict, dims: tuple[str, ...]) -> bool:
    return any(row[d] in (TOTAL, ALL) for d in dims)


def _value(raw) -> float | str:
    text = str(raw)
    try:
        return float(text)
    except ValueError:
        return text


class Relations:
    """The relations declared by the marts of ``tables`` ({name: (mart, table)}), as rows over the
    cells of a model: ``cell(table, row, count)`` gives a cell's index in it."""

    def __init__(self, tables: Mapping, cell: Callable[[str, int, str], int]) -> None:
        self.tables, self.cell = tables, cell
        self._rows = {name: table.to_dicts() for name, (_, table) in tables.items()}

    def rows(self) -> list[tuple[dict[int, float], str, str]]:
        """(coefficients, ``"="`` or ``"<="``, the relation as declared): each ``sum(...) op 0``."""
        out = []
        for name in sorted(self.tables):
            mart, _ = self.tables[name]
            spec = mart.spec
            for text in spec.relations:
                tree = parse(text, f"mart {name}")
                if not self._held(tree):
                    continue
                for i, row in enumerate(self._rows[name]):
                    if is_margin(row, spec.dimensions):
                        continue
                    where = f"{name} at " + (", ".join(f"{d}={row[d]}" for d in spec.dimensions) or "the table")
                    left = self._linear(tree.left, self._own(name, i, row, where))
                    right = self._linear(tree.comparators[0], self._own(name, i, row, where))
                    coefficients = dict(left[0])
                    for v, a in right[0].items():
                        coefficients[v] = coefficients.get(v, 0.0) - a
                    coefficients = {v: a for v, a in coefficients.items() if a}
                    if abs(left[1] - right[1]) > 1e-9:
                        raise ValueError(f"{where}: relation {text!r} has a constant term; relations compare counts")
                    if not coefficients:
                        continue
                    kind = COMPARE[type(tree.ops[0])]
                    if kind == ">=":
                        coefficients = {v: -a for v, a in coefficients.items()}
                    out.append((coefficients, "=" if kind == "==" else "<=", f"{text} ({where})"))
        return out

    def _held(self, tree: ast.AST) -> bool:
        """Whether every mart the relation sums over is among the tables attacked."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
                target = _summed(node)
                if target is None or target[0] not in self.tables:
                    return False
        return True

    def _own(self, name: str, i: int, row: dict, where: str) -> Callable[[ast.AST], Linear]:
        spec = self.tables[name][0].spec

        def resolve(node: ast.AST) -> Linear:
            if isinstance(node, ast.Name) and node.id in spec.counts:
                return {self.cell(name, i, node.id): 1.0}, 0.0
            if isinstance(node, ast.Name) and node.id in spec.dimensions:
                return _constant(_value(row[node.id]), where)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
                return self._sum(node, name, row, where)
            raise ValueError(f"{where}: {ast.unparse(node)!r} in a relation is neither a count nor a dimension of "
                             f"{name}, nor sum(<mart>.<count>, ...)")
        return resolve

    def _sum(self, node: ast.Call, name: str, own_row: dict, where: str) -> Linear:
        other, count = _summed(node)
        mart, _ = self.tables[other]
        spec = mart.spec
        if count not in spec.counts:
            raise ValueError(f"{where}: sum over {other}.{count}, which is not a count of {other}")
        own_dims = self.tables[name][0].spec.key_dimensions
        shared = [d for d in spec.key_dimensions if d in own_dims]
        total: dict[int, float] = {}
        for j, row in enumerate(self._rows[other]):
            if is_margin(row, spec.dimensions) or any(str(row[d]) != str(own_row[d]) for d in shared):
                continue
            def value(n: ast.AST, row=row):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "row":
                    return _value(own_row[n.attr])
                if isinstance(n, ast.Name) and n.id in spec.dimensions:
                    return _value(row[n.id])
                raise ValueError(f"{where}: {ast.unparse(n)!r} in sum over {other} is neither a dimension of "
                                 f"{other} nor row.<dimension>")
            if len(node.args) > 1 and not _condition(node.args[1], value):
                continue

            def resolve(n: ast.AST, j=j, value=value) -> Linear:
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == other:
                    return {self.cell(other, j, n.attr): 1.0}, 0.0
                return _constant(value(n), where)
            cells, constant = self._linear(node.args[0], resolve)
            if constant:
                raise ValueError(f"{where}: sum over {other} adds a constant; it must be a count times a coefficient")
            for v, a in cells.items():
                total[v] = total.get(v, 0.0) + a
        return total, 0.0

    def _linear(self, node: ast.AST, resolve: Callable[[ast.AST], Linear]) -> Linear:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return {}, float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            cells, constant = self._linear(node.operand, resolve)
            return {v: -a for v, a in cells.items()}, -constant
        if isinstance(node, ast.BinOp):
            (a, x), (b, y) = self._linear(node.left, resolve), self._linear(node.right, resolve)
            if isinstance(node.op, (ast.Add, ast.Sub)):
                sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
                cells = dict(a)
                for v, c in b.items():
                    cells[v] = cells.get(v, 0.0) + sign * c
                return cells, x + sign * y
            if isinstance(node.op, ast.Mult) and not (a and b):
                return ({v: c * y for v, c in a.items()} if a else {v: c * x for v, c in b.items()}), x * y
            if isinstance(node.op, ast.Div) and not b and y:
                return {v: c / y for v, c in a.items()}, x / y
        if isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            return resolve(node)
        raise ValueError(f"{ast.unparse(node)!r} in a relation is not linear in the counts")


def _summed(node: ast.Call) -> tuple[str, str] | None:
    """The (mart, count) a ``sum(...)`` adds up: the one ``<mart>.<count>`` in its first argument."""
    if not node.args:
        return None
    found = [(n.value.id, n.attr) for n in ast.walk(node.args[0])
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id != "row"]
    return found[0] if len(found) == 1 else None


def _constant(value: float | str, where: str) -> Linear:
    if isinstance(value, str):
        raise ValueError(f"{where}: {value!r} is not a number, so it cannot be a coefficient in a relation")
    return {}, value


def _condition(node: ast.AST, value: Callable[[ast.AST], float | str]) -> bool:
    if isinstance(node, ast.BoolOp):
        results = (_condition(v, value) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in CONDITIONS:
        left, right = (_operand(n, value) for n in (node.left, node.comparators[0]))
        return CONDITIONS[type(node.ops[0])](left, right)
    raise ValueError(f"{ast.unparse(node)!r} is not a condition (compare dimensions with ==, !=, <, <=, >, >=)")


def _operand(node: ast.AST, value: Callable[[ast.AST], float | str]) -> float | str:
    if isinstance(node, ast.Constant):
        return _value(node.value)
    return value(node)
