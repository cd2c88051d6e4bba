"""The shape of a publishable table: its spec, its margin (total) rows and its margin equations.

A public table is a cube: the mart's cells plus a total row for every subset of its totalled
dimensions (row totals, column totals, ..., the grand total), marked with ``"Total"`` in the
totalled dimension columns. Totals are added only along dimensions that split people into disjoint
groups: the dimensions ``meta.publish.exclusive`` declares (each person is in exactly one of its
groups), or the subset of them ``meta.publish.totals`` lists. Along any other dimension a person may
be in several groups (schools, providers, weeks), so a sum would count them twice: a total there is
the mart's own row ``"All"``, a distinct count of people (dbt macros in
``macros/distinct_totals.sql``), never summed here. A spec written without ``exclusive`` (not from a
mart: ``manifest.published_marts`` requires it) keeps the name-based default: every dimension except
time periods, the ``dimension`` column of a stacked table, labels and providers. Label columns
(``*_name`` next to an id) follow their id and read ``"Total"`` on total rows. Totals are computed
from the unsuppressed cells *before* suppression, so they are cells of the table like any other.
Each total equals the sum of its children along one dimension: those are the equations an attacker
could use to recover a suppressed cell, and the ones suppression and the disclosure checks reason
over.

The spec also names which counts are parts of which (``parts``): a part's people are among its
whole's in every row, so ``whole - part`` is a count of people readable by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import polars as pl

TOTAL = "Total"
ALL = "All"  # a mart's own total over overlapping groups: each person counted once
# Dimensions along which a sum of cells is not a count of people (a youth is in many weeks, years
# and providers), or which only label or stack other dimensions: no totals are added along them.
NOT_TOTALLED = ("dimension", "year", "quarter", "period", "week", "month", "date", "provider", "name")


def _label(dim: str, dims: tuple[str, ...]) -> bool:
    return dim.endswith("_name") and len(dims) > 1


@dataclass(frozen=True)
class PublishSpec:
    """What a mart publishes, read from its dbt ``meta.publish``."""

    dimensions: tuple[str, ...]
    counts: tuple[str, ...]
    rates: tuple[tuple[str, str, str], ...] = ()  # (rate, numerator, denominator)
    totalled: tuple[str, ...] = ()  # dimensions along which total rows are added
    # (whole, part): in every row the part's people are among the whole's, so whole - part is a
    # count of people too. From ``meta.publish.parts`` and every rate's [numerator, denominator].
    parts: tuple[tuple[str, str], ...] = ()
    overlapping: tuple[str, ...] = ()  # declared not exclusive: never summed, totals (``ALL``) from the mart
    relations: tuple[str, ...] = ()  # linear relations between counts that hold by construction (``relations``)
    # (rate, SQL expression): a derived figure the publisher computes again from the published
    # table (rounded counts, recomputed rates, its Total rows), so it says nothing they do not.
    recomputed: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_meta(cls, publish: dict, where: str) -> PublishSpec:
        dims = tuple(publish.get("dimensions") or ())
        counts = tuple(publish.get("counts") or ())
        if not counts:
            raise ValueError(f"{where}: meta.publish.counts is empty; a public table needs at least one count")
        rates = []
        for rate, pair in (publish.get("rates") or {}).items():
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError(f"{where}: meta.publish.rates.{rate} must be [numerator, denominator]")
            missing = [c for c in pair if c not in counts]
            if missing:
                raise ValueError(f"{where}: rate {rate} is built on {missing}, which are not listed in counts")
            rates.append((rate, pair[0], pair[1]))
        totals = publish.get("totals")
        exclusive = publish.get("exclusive")
        overlapping: tuple[str, ...] = ()
        if exclusive is not None:
            exclusive = tuple(exclusive or ())
            unknown = [d for d in exclusive if d not in dims or _label(d, dims)]
            if unknown:
                raise ValueError(f"{where}: meta.publish.exclusive names {unknown}, "
                                 "which are not (non-label) dimensions")
            overlapping = tuple(d for d in dims if d not in exclusive and not _label(d, dims))
            totals = list(exclusive) if totals is None else totals
            summed_overlap = [d for d in (totals if isinstance(totals, list) else dims) if d in overlapping]
            if summed_overlap:
                raise ValueError(f"{where}: meta.publish.totals would sum over {summed_overlap}, "
                                 "which are not declared exclusive: a person in several groups would be counted "
                                 f"twice (the mart's own {ALL!r} row counts them once)")
        if totals is None:
            totalled = tuple(d for d in dims if not _label(d, dims) and not any(w in d for w in NOT_TOTALLED))
        elif totals is True:
            totalled = tuple(d for d in dims if not _label(d, dims))
        else:
            totalled = tuple(totals or ())
            unknown = [d for d in totalled if d not in dims or _label(d, dims)]
            if unknown:
                raise ValueError(f"{where}: meta.publish.totals names {unknown}, which are not (non-label) dimensions")
        from hub_assets.disclosure.relations import parse as parse_relation  # relations reads TOTAL and ALL from here

        relations = tuple(publish.get("relations") or ())
        for text in relations:
            parse_relation(str(text), where)
        recomputed = tuple((str(rate), str(sql)) for rate, sql in (publish.get("recomputed") or {}).items())
        unknown = [rate for rate, _ in recomputed if rate not in {r for r, _, _ in rates}]
        if unknown:
            raise ValueError(f"{where}: meta.publish.recomputed names {unknown}, which are not rates of the table "
                             "(a recomputed figure is hidden with the counts of its rate)")
        return cls(dims, counts, tuple(rates), totalled, _part_whole(publish, rates, counts, where),
                   overlapping=overlapping, relations=relations, recomputed=recomputed)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if _label(d, self.dimensions))

    @property
    def key_dimensions(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d not in self.labels)

    @property
    def rate_names(self) -> tuple[str, ...]:
        return tuple(r for r, _, _ in self.rates)

    @property
    def columns(self) -> list[str]:
        return [*self.dimensions, *self.counts, *self.rate_names]


def _part_whole(publish: dict, rates: list, counts: tuple[str, ...], where: str) -> tuple[tuple[str, str], ...]:
    """``parts: {whole: [part, ...]}`` plus each rate's (denominator, numerator) — a rate here is
    always a share of its denominator, and ``validate_cells`` refuses a row where it is not."""
    declared = publish.get("parts") or {}
    if not isinstance(declared, dict):
        raise ValueError(f"{where}: meta.publish.parts must map a whole column to a list of its part columns")
    pairs = [(den, num) for _, num, den in rates]
    for whole, parts in declared.items():
        parts = [parts] if isinstance(parts, str) else list(parts or ())
        for part in parts:
            unknown = [c for c in (whole, part) if c not in counts]
            if unknown:
                raise ValueError(f"{where}: meta.publish.parts.{whole} names {unknown}, which are not listed in counts")
            if part == whole:
                raise ValueError(f"{where}: meta.publish.parts.{whole} lists {whole} as a part of itself")
            pairs.append((whole, part))
    # A part of a part is a part of the whole too (children in Head Start of children): its
    # difference is a count of people as well, so the relation is closed transitively.
    closed = list(dict.fromkeys(pairs))  # each relation once, in declaration order
    for whole, part in closed:
        closed += [(whole, sub) for w, sub in closed if w == part and (whole, sub) not in closed]
    cycle = sorted({whole for whole, part in closed if whole == part})
    if cycle:
        raise ValueError(f"{where}: meta.publish.parts makes {cycle} a part of itself (a cycle of parts)")
    return tuple(closed)


def validate_cells(df: pl.DataFrame, spec: PublishSpec, where: str) -> pl.DataFrame:
    """The mart's cells, restricted to the published columns, with clear errors for bad input."""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: columns {missing} are declared in meta.publish but missing from the mart")
    df = df.select(spec.columns)
    for count in spec.counts:
        nulls = df.with_row_index("row").filter(pl.col(count).is_null())
        if nulls.height:
            raise ValueError(f"{where}: count column {count!r} is NULL in row {nulls['row'][0] + 1}; "
                             "a count must be 0 or more")
        negative = df.with_row_index("row").filter(pl.col(count) < 0)
        if negative.height:
            raise ValueError(f"{where}: count column {count!r} is negative in row {negative['row'][0] + 1}")
    if spec.dimensions:
        dupes = df.group_by(spec.dimensions).len().filter(pl.col("len") > 1)
        if dupes.height:
            raise ValueError(f"{where}: more than one row for {dupes.row(0, named=True)}; "
                             "a mart must have one row per combination of its dimensions")
    for whole, part in spec.parts:
        bigger = df.with_row_index("row").filter(pl.col(part) > pl.col(whole))
        if bigger.height:
            row = bigger.row(0, named=True)
            at = ", ".join(f"{d}={row[d]}" for d in spec.dimensions)
            raise ValueError(f"{where}: row {row['row'] + 1}{f' ({at})' if at else ''} has {part}={row[part]} "
                             f"greater than {whole}={row[whole]}, "
                             f"but meta.publish declares {part} a part of {whole} (a rate's numerator is a part of its "
                             "denominator)")
    df = df.with_columns(pl.col(d).cast(pl.String) for d in spec.dimensions)
    for dim in spec.dimensions:
        if (df[dim] == TOTAL).any():
            raise ValueError(f"{where}: dimension {dim!r} has the value {TOTAL!r}, reserved for margins")
        if dim in spec.totalled and (df[dim] == ALL).any():  # it would be summed into the total with its groups
            raise ValueError(f"{where}: dimension {dim!r} is summed (declared exclusive) but has {ALL!r} rows; "
                             f"{ALL!r} rows belong to dimensions whose groups overlap")
    return df.with_columns(pl.col(c).cast(pl.Int64) for c in spec.counts)


def add_margins(cells: pl.DataFrame, spec: PublishSpec) -> pl.DataFrame:
    """Cells plus one total row per subset of dimensions, totals summed before any suppression."""
    if not spec.totalled:
        return cells
    parts = [cells]
    dims = list(spec.dimensions)
    for size in range(1, len(spec.totalled) + 1):
        for totalled in combinations(spec.totalled, size):
            kept = [d for d in spec.key_dimensions if d not in totalled]
            sums = [pl.col(c).sum().cast(pl.Int64) for c in spec.counts]
            block = cells.group_by(kept, maintain_order=True).agg(sums) if kept else cells.select(sums)
            block = block.with_columns(pl.lit(TOTAL, dtype=pl.String).alias(d) for d in [*totalled, *spec.labels])
            parts.append(block.select([*dims, *spec.counts]))
    table = pl.concat([parts[0].select([*dims, *spec.counts]), *parts[1:]], how="vertical")
    # Rates of total rows come from the summed numerator and denominator, at the mart's scale.
    table = table.with_columns(
        _rate_expr(num, den, _rate_scale(cells, rate, num, den)).alias(rate) for rate, num, den in spec.rates
    )
    own_rates = [cells[r].cast(pl.Float64) for r in spec.rate_names]
    interior = table.head(cells.height).with_columns(own_rates)  # the mart's own rates on its cells
    return pl.concat([interior, table.slice(cells.height)], how="vertical")


def _rate_expr(num: str, den: str, scale: float | None) -> pl.Expr:
    if scale is None:  # not a plain ratio: no value on total rows
        return pl.lit(None, dtype=pl.Float64)
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * scale).otherwise(None).round(4)


def _rate_scale(cells: pl.DataFrame, rate: str, num: str, den: str) -> float | None:
    """1 for a proportion, 100 for a percentage, read off the mart's own rates; None when the
    mart's values are not numerator / denominator at one scale (then totals get no rate)."""
    usable = cells.filter((pl.col(den) > 0) & pl.col(rate).is_not_null())
    if not usable.height:
        return 1.0
    ratio = (usable[num].cast(pl.Float64) / usable[den].cast(pl.Float64))
    for scale in (1.0, 100.0):
        if ((usable[rate].cast(pl.Float64) - ratio * scale).abs() <= 0.005 * scale + 1e-9).all():
            return scale
    return None


def margin_groups(rows: list[dict], dimensions: tuple[str, ...]) -> list[tuple[int, list[int]]]:
    """Every (total row, its children along one dimension): total == sum(children)."""
    children: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        for pos, dim in enumerate(dimensions):
            if row[dim] != TOTAL:
                key = (pos, *(row[d] for j, d in enumerate(dimensions) if j != pos))
                children.setdefault(key, []).append(i)
    groups = []
    for i, row in enumerate(rows):
        for pos, dim in enumerate(dimensions):
            if row[dim] == TOTAL:
                key = (pos, *(row[d] for j, d in enumerate(dimensions) if j != pos))
                if children.get(key):
                    groups.append((i, children[key]))
    return groups
