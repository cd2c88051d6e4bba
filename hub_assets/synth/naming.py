"""Names for the synthetic population: first, middle and last names, suffixes, surname lines.

First names come from the pool of the person's race/ethnicity and sex (with some crossing
between pools, and a tail of rare syllable-built names). A family has a mother's birth surname
and a father's surname; children carry one or the other, or both hyphenated; some married
mothers carry the father's surname (so their maiden name differs). Twins get different first
names, sometimes similar ones (JAYDEN/JAYLEN).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from hub_assets.reference.names import GROUPS, first_names, rare_names, surnames

RARE_FIRST = 0.12
RARE_SURNAME = 0.15
CROSS_POOL = 0.12  # names from another group's pool
SIMILAR_TWINS = {
    "JAYDEN": "JAYLEN", "JAYLEN": "JAYDEN", "KAYLA": "KAYLEE", "KAYLEE": "KAYLA", "AMIR": "AMARI",
    "AMARI": "AMIR", "BRIANNA": "BRIELLE", "ISAIAH": "ISAAC", "DANIEL": "DANIELLE", "JORDAN": "JORDYN",
    "MAKAYLA": "MIKAYLA", "MALIK": "MALACHI", "TYRELL": "TYREEK", "JASMINE": "JAZMIN", "ETHAN": "EVAN",
    "EMMA": "EMILY", "MIA": "MYA", "ZION": "ZARIAH", "NASIR": "NIA", "CAMILA": "CAMILO",
}


def _pool_group(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which name pool each person draws from."""
    pool = np.where(np.isin(groups, GROUPS), groups, "WHITE")
    pool = np.where(groups == "MULTI", np.where(rng.random(len(groups)) < 0.6, "BLACK", "WHITE"), pool)
    cross = rng.random(len(groups)) < CROSS_POOL
    return np.where(cross, np.array(GROUPS)[rng.integers(0, len(GROUPS), len(groups))], pool)


def _draw(table: pl.DataFrame, name_col: str, keys: dict[str, np.ndarray], rng: np.random.Generator) -> pl.Series:
    """Weighted draw from ``table`` for each element, within the rows matching its keys."""
    n = len(next(iter(keys.values())))
    out = pl.Series(name_col, [None] * n, dtype=pl.String)
    frame = pl.DataFrame(keys)
    for combo in frame.unique(maintain_order=True).sort(list(keys)).iter_rows(named=True):
        mask = np.ones(n, dtype=bool)
        sub = table
        for k, v in combo.items():
            mask &= keys[k] == v
            sub = sub.filter(pl.col(k) == v)
        w = sub["weight"].to_numpy()
        picks = rng.choice(sub.height, size=int(mask.sum()), p=w / w.sum())
        out = out.scatter(np.flatnonzero(mask), sub[name_col].gather(picks))
    return out


def first_name_draw(groups: np.ndarray, sexes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    names = _draw(first_names(), "first_name", {"group": _pool_group(groups, rng), "sex": sexes}, rng)
    rare = np.flatnonzero(rng.random(len(groups)) < RARE_FIRST)
    return names.scatter(rare, pl.Series(rare_names(len(rare), rng).tolist(), dtype=pl.String)).to_numpy()


def surname_draw(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    names = _draw(surnames(), "last_name", {"group": _pool_group(groups, rng)}, rng)
    rare = np.flatnonzero(rng.random(len(groups)) < RARE_SURNAME)
    return names.scatter(rare, pl.Series(rare_names(len(rare), rng, surname=True).tolist(), dtype=pl.String)).to_numpy()


def assign_names(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = people.height
    groups = people["race_ethnicity"].to_numpy()
    sexes = people["sex"].to_numpy()
    first = first_name_draw(groups, sexes, rng)
    middle = first_name_draw(groups, sexes, rng)
    middle = np.where((rng.random(n) < 0.65) & (middle != first), middle, "")

    fam = people.select("family_id", "race_ethnicity").unique("family_id", keep="first").sort("family_id")
    f_groups = fam["race_ethnicity"].to_numpy()
    line = rng.random(fam.height)  # which surname line the family's children carry
    fam = fam.with_columns(
        mother_surname=pl.Series(surname_draw(f_groups, rng), dtype=pl.String),
        father_surname=pl.Series(surname_draw(f_groups, rng), dtype=pl.String),
        line=pl.Series(np.select([line < 0.45, line < 0.95], ["mother", "father"], "hyphen")),
        married=pl.Series(rng.random(fam.height) < 0.5),
    ).drop("race_ethnicity")
    people = people.with_columns(first_name=pl.Series(first, dtype=pl.String),
                                 middle_name=pl.Series(middle, dtype=pl.String)).join(
        fam, on="family_id", how="left", maintain_order="left")
    kid_surname = (pl.when(pl.col("line") == "mother").then("mother_surname")
                   .when(pl.col("line") == "father").then("father_surname")
                   .otherwise(pl.format("{}-{}", "mother_surname", "father_surname")))
    people = people.with_columns(
        birth_last_name=pl.when(pl.col("kind") == "mother").then("mother_surname").otherwise(kid_surname),
        last_name=pl.when(pl.col("kind") == "mother").then(
            pl.when((pl.col("line") == "father") & pl.col("married")).then("father_surname")
            .otherwise("mother_surname")).otherwise(kid_surname),
    )
    people = _babies_surnames(people, rng)
    people = _twin_names(people, rng)
    suffix_draw = rng.random(n)
    suffix = np.select([suffix_draw < 0.03, suffix_draw < 0.04, suffix_draw < 0.045], ["JR", "III", "II"], "")
    people = people.with_columns(suffix=pl.when(pl.col("sex") == "M").then(pl.Series(suffix)).otherwise(pl.lit("")))
    return people.drop("mother_surname", "father_surname", "line", "married")


def _babies_surnames(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """A young mother's baby takes her surname or the baby's father's."""
    moms = people.select(mother_person_id="person_id", mom_last="last_name")
    fathers = pl.Series(surname_draw(people["race_ethnicity"].to_numpy(), rng), dtype=pl.String)
    use_mom = rng.random(people.height) < 0.6
    people = people.join(moms, on="mother_person_id", how="left", maintain_order="left")
    baby_last = pl.when(pl.Series(use_mom)).then("mom_last").otherwise(pl.lit(fathers))
    return people.with_columns(
        last_name=pl.when(pl.col("kind") == "baby").then(baby_last).otherwise("last_name"),
        birth_last_name=pl.when(pl.col("kind") == "baby").then(baby_last).otherwise("birth_last_name"),
    ).drop("mom_last")


def _twin_names(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The second twin gets a different first name: a similar one when there is one (30%)."""
    twins = people.with_row_index("row").filter(pl.col("is_twin")).with_columns(
        rank=pl.int_range(pl.len()).over("family_id", "dob"),
        sibling=pl.col("first_name").first().over("family_id", "dob"),
    ).filter(pl.col("rank") == 1)
    sib = twins["sibling"].to_numpy().astype(str)
    similar = np.array([SIMILAR_TWINS.get(s, "") for s in sib])
    redraw = first_name_draw(twins["race_ethnicity"].to_numpy().astype(str), twins["sex"].to_numpy().astype(str), rng)
    use_similar = (similar != "") & (rng.random(len(sib)) < 0.3)
    new = np.where(use_similar, similar, np.where(redraw == sib, np.char.add(redraw, "A"), redraw))
    keep = (~use_similar) & (twins["first_name"].to_numpy() != sib)
    new = np.where(keep, twins["first_name"].to_numpy().astype(str), new)
    first = people["first_name"].to_numpy().astype(object)
    first[twins["row"].to_numpy()] = new
    return people.with_columns(first_name=pl.Series(first, dtype=pl.String))
