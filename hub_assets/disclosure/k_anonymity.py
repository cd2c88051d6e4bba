"""Quasi-identifiers generalised until every combination describes at least k people.

The quasi-identifiers of a person are birth period, sex, race/ethnicity and area. Each has a
documented hierarchy, from most to least detailed:

- birth: month (``2012-03``) -> year (``2012``) -> five-year band (``2010-2014``) -> suppressed;
- area: Community Statistical Area -> its ZIP area (the CSAs whose main ZIP is the same, e.g.
  ``ZIP 21229 area``) -> suppressed;
- race/ethnicity: the OMB categories -> broader groups (Hispanic, Black, White, Unknown kept;
  Asian, AIAN, NHPI, MENA and Multiracial become ``OTHER``) -> suppressed;
- sex: kept -> suppressed.

Full-domain generalisation: one level per quasi-identifier for the whole export. Every
combination of levels is tried; in each, the people of classes smaller than k have every
quasi-identifier suppressed (if they are fewer than k, the next smallest classes join them until
the suppressed class itself has k). Among the combinations that suppress at most
``max_suppressed_share`` of the people, the one losing least is chosen, by the discernibility
metric (Bayardo and Agrawal, 2005: each person costs the size of their class, a suppressed person
costs everyone), ties going to the least total generalisation and then to the order birth, area,
race, sex coarsened first. The same people and k always give the same result.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from hub_assets.reference.geography import csas

SUPPRESSED = "*"
QUASI_IDENTIFIERS = ("birth_period", "sex", "race_ethnicity", "area")
BIRTH_LEVELS = ("month", "year", "5-year band", "suppressed")
AREA_LEVELS = ("CSA", "ZIP area", "suppressed")
RACE_LEVELS = ("OMB category", "broad group", "suppressed")
SEX_LEVELS = ("kept", "suppressed")
BROAD_RACE = {"HISPANIC": "HISPANIC", "BLACK": "BLACK", "WHITE": "WHITE", "UNKNOWN": "UNKNOWN"}
# Coarsening order among lattice nodes of equal height: birth first (analyses rarely need the
# month), then area, then race, sex last (most analyses split by it).
PRIORITY = ("birth", "area", "race", "sex")


@dataclass(frozen=True)
class Levels:
    birth: int
    area: int
    race: int
    sex: int

    def describe(self) -> dict[str, str]:
        return {"birth_period": BIRTH_LEVELS[self.birth], "area": AREA_LEVELS[self.area],
                "race_ethnicity": RACE_LEVELS[self.race], "sex": SEX_LEVELS[self.sex]}


@dataclass
class Generalised:
    people: pl.DataFrame  # person_key + the four generalised quasi-identifiers
    k: int
    levels: Levels
    suppressed_people: int
    class_sizes: dict[int, int] = field(default_factory=dict)  # class size -> number of classes

    @property
    def smallest_class(self) -> int:
        return min(self.class_sizes) if self.class_sizes else 0


@cache
def zip_area_of_csa() -> dict[str, str]:
    """CSA -> its ZIP area, named after the CSA's main ZIP (the first it lists)."""
    frame = csas().select("csa", pl.col("zips").list.first().alias("zip"))
    return {row["csa"]: f"ZIP {row['zip']} area" for row in frame.iter_rows(named=True)}


def _birth(level: int) -> pl.Expr:
    year, month = pl.col("birth_year"), pl.col("birth_month")
    band = (year // 5) * 5
    value = [pl.format("{}-{}", year, month.cast(pl.String).str.zfill(2)),
             year.cast(pl.String),
             pl.format("{}-{}", band, band + 4),
             pl.lit(SUPPRESSED)][level]
    known = year.is_not_null() & (month.is_not_null() if level == 0 else pl.lit(True))
    return pl.when(known | pl.lit(level == 3)).then(value).otherwise(pl.lit(SUPPRESSED))


def _area(level: int) -> pl.Expr:
    hood = pl.col("neighbourhood")
    value = [hood, hood.replace_strict(zip_area_of_csa(), default=None), pl.lit(SUPPRESSED)][level]
    return value.fill_null(SUPPRESSED)


def _race(level: int) -> pl.Expr:
    race = pl.col("race_ethnicity").fill_null("UNKNOWN")
    return [race, race.replace_strict(BROAD_RACE, default="OTHER"), pl.lit(SUPPRESSED)][level]


def _sex(level: int) -> pl.Expr:
    return [pl.col("sex").fill_null(SUPPRESSED), pl.lit(SUPPRESSED)][level]


def apply_levels(spine: pl.DataFrame, levels: Levels) -> pl.DataFrame:
    """person_key and the quasi-identifiers at ``levels`` (spine columns: birth_year,
    birth_month, sex, race_ethnicity, neighbourhood)."""
    return spine.select("person_key",
                        _birth(levels.birth).alias("birth_period"), _sex(levels.sex).alias("sex"),
                        _race(levels.race).alias("race_ethnicity"), _area(levels.area).alias("area"))


def lattice() -> list[Levels]:
    """Every combination of levels, least generalised first, ties broken by ``PRIORITY``."""
    nodes = [Levels(*v) for v in itertools.product(range(len(BIRTH_LEVELS)), range(len(AREA_LEVELS)),
                                                   range(len(RACE_LEVELS)), range(len(SEX_LEVELS)))]
    # Lower height first; among equals the node that coarsened birth (then area, ...) most.
    return sorted(nodes, key=lambda n: (n.birth + n.area + n.race + n.sex,
                                        tuple(-getattr(n, p) for p in PRIORITY)))


def _suppress_small(people: pl.DataFrame, k: int) -> tuple[pl.DataFrame, int]:
    """Suppress every quasi-identifier of the people in classes smaller than k, adding the next
    smallest classes (in a fixed order) while the suppressed class itself is smaller than k."""
    sizes = (people.group_by(QUASI_IDENTIFIERS).agg(pl.len().alias("n"))
             .sort(["n", *QUASI_IDENTIFIERS]))
    all_suppressed = pl.all_horizontal(pl.col(q) == SUPPRESSED for q in QUASI_IDENTIFIERS)
    chosen = sizes.filter((pl.col("n") < k) & ~all_suppressed)
    already = sizes.filter(all_suppressed)["n"].sum()
    total = chosen["n"].sum() + already
    if 0 < total < k:
        rest = sizes.filter((pl.col("n") >= k) & ~all_suppressed)
        extra = rest.filter(pl.col("n").cum_sum().shift(1, fill_value=0) < k - total)
        chosen = pl.concat([chosen, extra])
    if chosen.is_empty():
        return people, 0
    marked = people.join(chosen.select(*QUASI_IDENTIFIERS, pl.lit(True).alias("_hide")),
                         on=list(QUASI_IDENTIFIERS), how="left", nulls_equal=True)
    hidden = marked.with_columns(
        pl.when(pl.col("_hide")).then(pl.lit(SUPPRESSED)).otherwise(pl.col(q)).alias(q)
        for q in QUASI_IDENTIFIERS).drop("_hide")
    return hidden, int(chosen["n"].sum())


def discernibility(people: pl.DataFrame) -> int:
    """Sum over people of their class's size; a suppressed person costs the whole population."""
    sizes = people.group_by(QUASI_IDENTIFIERS).agg(
        pl.len().alias("n"), pl.all_horizontal(pl.col(q) == SUPPRESSED for q in QUASI_IDENTIFIERS).first()
        .alias("hidden"))
    kept = sizes.filter(~pl.col("hidden"))
    return int((kept["n"] ** 2).sum() + sizes.filter(pl.col("hidden"))["n"].sum() * people.height)


def k_anonymise(spine: pl.DataFrame, k: int, max_suppressed_share: float) -> Generalised:
    """The generalisation meeting k with at most ``max_suppressed_share`` of the people
    suppressed that loses least (``discernibility``; ties in ``lattice`` order). The top of the
    lattice suppresses everything, so one always exists when there are at least k people."""
    if spine.is_empty():
        return Generalised(apply_levels(spine, Levels(0, 0, 0, 0)), k, Levels(0, 0, 0, 0), 0, {})
    budget = max_suppressed_share * spine.height
    nodes = lattice()
    best = None
    for rank, levels in enumerate(nodes):
        people, suppressed = _suppress_small(apply_levels(spine, levels), k)
        if suppressed > budget and levels != nodes[-1]:
            continue
        cost = (discernibility(people), rank)
        if best is None or cost < best[0]:
            best = (cost, levels, people, suppressed)
    _, levels, people, suppressed = best
    sizes = people.group_by(QUASI_IDENTIFIERS).agg(pl.len().alias("n"))["n"].value_counts()
    return Generalised(people.sort("person_key"), k, levels, suppressed,
                       dict(sorted(zip(sizes["n"].to_list(), sizes["count"].to_list()))))
