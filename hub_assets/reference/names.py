"""Name reference data: first names by sex and group, surnames by group, nicknames.

The CSVs hold the common names, ranked, with Zipf-like weights, so that very common names
(MICHAEL, JAYLEN, WILLIAMS, SMITH) really are common. Real populations also have a long tail
of rare names; ``rare_names`` builds that tail from syllables, deterministically from a seed,
so a large synthetic city is not made only of a few hundred names.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from hub_assets.reference import REFERENCE_DIR

GROUPS = ("BLACK", "WHITE", "HISPANIC", "ASIAN")


@cache
def first_names() -> pl.DataFrame:
    """Columns first_name, sex (M/F), group, weight."""
    return pl.read_csv(REFERENCE_DIR / "first_names.csv", schema_overrides={"weight": pl.Float64})


@cache
def surnames() -> pl.DataFrame:
    """Columns last_name, group, weight."""
    return pl.read_csv(REFERENCE_DIR / "surnames.csv", schema_overrides={"weight": pl.Float64})


@cache
def nicknames() -> pl.DataFrame:
    """Columns formal, nickname: one row per known pair (a formal name may have several)."""
    return pl.read_csv(REFERENCE_DIR / "nicknames.csv")


_ONSETS = ["", "B", "CH", "D", "DE", "J", "JA", "K", "KA", "L", "LA", "M", "MA", "N", "R",
           "S", "SH", "T", "TA", "V", "Z", "BR", "TR", "KH", "AN", "EL"]
_NUCLEI = ["A", "E", "I", "O", "AI", "EE", "AY", "Y", "IA", "OU"]
_CODAS = ["", "N", "R", "L", "S", "NE", "RA", "LEN", "RON", "QUAN", "NA", "LYN", "SON", "TON",
          "VON", "RIEL", "DRE", "ZIAH", "NIYAH", "MIR"]
_SURNAME_ENDS = ["SON", "TON", "FORD", "LEY", "MAN", "ER", "ELL", "WOOD", "BERG", "SKI", "EZ",
                 "INI", "OV", "AN", "ETT", "FIELD"]


def rare_names(n: int, rng: np.random.Generator, surname: bool = False) -> np.ndarray:
    """``n`` syllable-built names (duplicates are possible and realistic)."""
    a = np.array(_ONSETS)[rng.integers(0, len(_ONSETS), n)]
    b = np.array(_NUCLEI)[rng.integers(0, len(_NUCLEI), n)]
    if surname:
        a = np.array(_ONSETS[1:])[rng.integers(0, len(_ONSETS) - 1, n)]
        e = np.array(_SURNAME_ENDS)[rng.integers(0, len(_SURNAME_ENDS), n)]
        names = np.char.add(np.char.add(a, b), e)
    else:
        c = np.array(_CODAS)[rng.integers(0, len(_CODAS), n)]
        names = np.char.add(np.char.add(a, b), c)
    # Very short results ("A", "EE") are not names: prefix a consonant.
    short = np.char.str_len(names) < 4
    names[short] = np.char.add("KA", names[short])
    return names
