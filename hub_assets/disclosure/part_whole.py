"""Part and whole counts in one published row: the differences an attacker reads by subtraction.

When a spec declares ``part`` a part of ``whole`` (``PublishSpec.parts``), ``whole - part`` in
every row is a count of people too (child welfare youth who are not crossover youth). Nobody
publishes it, but it is known whenever both counts are shown, and it obeys the same margin
equations as the columns (the difference of two margin-consistent columns is margin-consistent).
So it is an implied cell under the same rule as a published count: from 1 to the threshold it
must not be readable or recoverable.

This module writes the equations an attacker has over a set of related columns, jointly:
unknowns are the suppressed cells of every column, ``(column, row)``, and the differences not
visible, ``(difference, row)``; equations are each column's and each difference's margin
equations plus ``whole - part - difference = 0`` per row; bounds are a suppressed count >= 1 and
a difference >= 0. It returns what they give away (``exposed_cells``).
"""

from __future__ import annotations

from hub_assets.disclosure.recovery import (
    Equation,
    equation,
    equations_over_hidden,
    pinned_by_intervals,
    recoverable_cells,
)

Relation = tuple[str, str]  # (whole, part)
Groups = list[tuple[int, list[int]]]  # (total row, its children), see margins.margin_groups


def difference_name(relation: Relation) -> str:
    whole, part = relation
    return f"{whole} - {part}"


def related_sets(relations: tuple[Relation, ...]) -> list[tuple[Relation, ...]]:
    """The relations split into independent sets: two relations sharing a column are solved together."""
    sets: list[tuple[set[str], list[Relation]]] = []
    for relation in relations:
        touching = [s for s in sets if s[0] & set(relation)]
        columns, members = set(relation), [relation]
        for s in touching:
            columns |= s[0]
            members = s[1] + members
            sets.remove(s)
        sets.append((columns, members))
    return [tuple(members) for _, members in sets]


def differences(published: dict[str, list[int | None]], relation: Relation) -> list[int | None]:
    """``whole - part`` per row where both are shown, else None (unknown to a reader)."""
    wholes, parts = published[relation[0]], published[relation[1]]
    return [None if w is None or p is None else w - p for w, p in zip(wholes, parts)]


def exposed_cells(published: dict[str, list[int | None]], relations: tuple[Relation, ...], groups: Groups,
                  threshold: int) -> dict[tuple[str, int], int]:
    """What the published cells of related columns give away: {(column or difference, row): value}.

    A suppressed count is exposed whenever the reader can fix it; a difference when it is from 1
    to the threshold and visible (both counts shown) or fixed. Solved in two steps that together
    are the joint system: exact elimination, column by column — the per-row equations add nothing
    there, as each brings its own unknown difference (so a difference is fixed exactly when both
    its counts are) — then whole-number bounds over the joint equations (a part is at most its
    whole, a suppressed count at least 1), repeated while either step fixes something new.
    """
    columns = list(dict.fromkeys(c for relation in relations for c in relation))
    known = {c: list(published[c]) for c in columns}
    exposed: dict[tuple[str, int], int] = {}
    while True:
        found = {(c, row): v for c in columns for row, v in recoverable_cells(known[c], groups).items()}
        known = _with(known, found)
        pinned = pinned_by_intervals(*joint_equations(known, relations, groups))
        found.update({cell: v for cell, v in pinned.items() if cell[0] in known})
        exposed.update(found)
        if not any(cell[0] in known for cell in pinned):
            break
        known = _with(known, {cell: v for cell, v in pinned.items() if cell[0] in known})
    for relation in relations:
        for row, value in enumerate(differences(known, relation)):
            if value is not None and 1 <= value <= threshold:
                exposed[(difference_name(relation), row)] = value
    for (name, row), value in pinned.items():  # differences pinned while both counts stay unknown
        if name not in known and 1 <= value <= threshold:
            exposed[(name, row)] = value
    return exposed


def _with(known: dict[str, list[int | None]], found: dict[tuple[str, int], int]) -> dict[str, list[int | None]]:
    out = {c: list(values) for c, values in known.items()}
    for (column, row), value in found.items():
        out[column][row] = value
    return out


def joint_equations(published: dict[str, list[int | None]], relations: tuple[Relation, ...],
                    groups: Groups) -> tuple[list[Equation], dict]:
    """The attacker's equations over related columns, and each unknown's least possible value."""
    columns = dict.fromkeys(c for relation in relations for c in relation)
    cells: dict[str, list[int | None]] = {c: published[c] for c in columns}
    cells.update({difference_name(r): differences(published, r) for r in relations})
    lowest = {(name, row): (1 if name in columns else 0)  # counts shown when 0; a difference may be 0
              for name, values in cells.items() for row, v in enumerate(values) if v is None}
    equations = [eq for name, values in cells.items()
                 for eq in equations_over_hidden(values, groups, key=lambda row, name=name: (name, row))]
    for relation in relations:
        whole, part = relation
        name = difference_name(relation)
        for row in range(len(cells[whole])):
            terms = [(whole, 1), (part, -1), (name, -1)]
            per_row = equation([((col, row), sign, cells[col][row]) for col, sign in terms])
            if per_row:
                equations.append(per_row)
    return equations, lowest
