"""Agency record IDs and the identity each agency recorded for each record, with its noise.

Noise is drawn once per (source, record_id), because a typo keyed into an agency's system
stays in every later snapshot of that record. Rates come from the declaration's ``noise``
(times ``noise_scale``): typo, nickname, surname_change, swap_day_month, missing_dob, moved.
Also: middle names left out, suffixes kept or dropped, maiden names where the agency asks for
them, and ~1% of persons given a second record ID (an intra-agency duplicate).
Every record's applied noise is listed in its ``noise`` column for the truth files.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from hub_assets.reference.names import nicknames
from hub_assets.synth.addresses import random_addresses
from hub_assets.synth.naming import surname_draw

DUPLICATE_RATE = 0.01
MIDDLE_OMITTED = 0.25
ID_BASE = 100_000_000


def assign_record_ids(rows: pl.DataFrame, person_col: str, rng: np.random.Generator,
                      duplicates: bool) -> pl.DataFrame:
    """Adds ``record_id`` (stable per person within the agency) and ``is_duplicate_id``.

    A duplicated person's later rows carry a second ID; one with a single row is entered twice.
    """
    people = rows.select(pl.col(person_col).drop_nulls().unique().sort())[person_col]
    k = people.len()
    ids = rng.permutation(2 * k) + ID_BASE
    dup = (rng.random(k) < DUPLICATE_RATE) if duplicates else np.zeros(k, bool)
    keys = pl.DataFrame({person_col: people, "_id": pl.Series(ids[:k]).cast(pl.String),
                         "_alt": pl.Series(ids[k:]).cast(pl.String), "_dup": dup})
    rows = rows.with_row_index("_row").join(keys, on=person_col, how="left", maintain_order="left")
    rows = rows.with_columns(
        _rank=pl.col("event_date").rank("ordinal").over(person_col) - 1,
        _n=pl.len().over(person_col),
    )
    twice = rows.filter(pl.col("_dup") & (pl.col("_n") == 1))
    rows = pl.concat([rows.with_columns(_second=pl.lit(False)), twice.with_columns(_second=pl.lit(True))])
    use_alt = pl.col("_dup") & ((pl.col("_second")) | ((pl.col("_n") > 1) & (pl.col("_rank") >= pl.col("_n") // 2)))
    return rows.sort("_row", "_second").with_columns(
        record_id=pl.when(use_alt).then("_alt").otherwise("_id"), is_duplicate_id=use_alt,
    ).drop("_row", "_id", "_alt", "_dup", "_rank", "_n", "_second")


@cache
def _nickname_map() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for formal, nick in nicknames().iter_rows():
        out.setdefault(formal, []).append(nick)
    return out


def _ascii(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "")


def typo(name: str, u: float, v: float) -> str:
    """One keying error: substitute, drop, double or transpose a letter."""
    if len(name) < 3:
        return name + "E"
    i = 1 + int(v * (len(name) - 2))
    letters = "AEIOUNRSTLMKDH"
    kind = int(u * 4)
    if kind == 0:
        repl = letters[int(v * 997) % len(letters)]
        repl = repl if repl != name[i] else "Y"
        return name[:i] + repl + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:] if name[i] != name[i - 1] else name[:i] + name[i + 1:]


def noisy_identities(records: pl.DataFrame, persons: pl.DataFrame, rates: dict[str, float], scale: float,
                     rng: np.random.Generator, maiden: bool) -> pl.DataFrame:
    """One row per (record_id, person_id): the identity as the agency recorded it, plus ``noise``."""
    r = records.join(persons.select("person_id", "first_name", "middle_name", "last_name", "birth_last_name",
                                    "suffix", "dob", "sex", "race_ethnicity", "prev_address", "prev_zip"),
                     on="person_id", how="left", maintain_order="left")
    n = r.height

    def rate(kind: str) -> np.ndarray:
        return rng.random(n) < min(1.0, rates.get(kind, 0.0) * scale)

    flags: dict[str, np.ndarray] = {}
    # Edits are few: keep the columns as polars Series and scatter the changed values in.
    first = r["first_name"].to_list()
    last = (r["birth_last_name"] if maiden else r["last_name"]).to_list()
    flags["maiden_name"] = np.asarray(maiden & (r["birth_last_name"] != r["last_name"]).to_numpy())

    nick_map = _nickname_map()
    formal = r.select(_ascii(pl.col("first_name")))["first_name"]
    eligible = formal.is_in(list(nick_map)).to_numpy()
    formal = formal.to_list()
    flags["nickname"] = eligible & rate("nickname")
    for i in np.flatnonzero(flags["nickname"]):
        options = nick_map[formal[i]]
        first[i] = options[int(rng.integers(0, len(options)))]

    flags["surname_change"] = rate("surname_change")
    idx = np.flatnonzero(flags["surname_change"])
    other = surname_draw(r["race_ethnicity"].to_numpy()[idx], rng)
    hyphen = rng.random(len(idx)) < 0.5
    for j, i in enumerate(idx):
        last[i] = f"{last[i]}-{other[j]}" if hyphen[j] else other[j]

    flags["typo"] = rate("typo")
    idx = np.flatnonzero(flags["typo"])
    on_first = rng.random(len(idx)) < 0.5
    u, v = rng.random(len(idx)), rng.random(len(idx))
    for j, i in enumerate(idx):
        if on_first[j]:
            first[i] = typo(first[i], u[j], v[j])
        else:
            last[i] = typo(last[i], u[j], v[j])

    dob = r["dob"]
    day, month = dob.dt.day().to_numpy(), dob.dt.month().to_numpy()
    swappable = (day <= 12) & (day != month)
    flags["swap_day_month"] = swappable & rate("swap_day_month")
    flags["missing_dob"] = rate("missing_dob")
    flags["moved"] = rate("moved")
    moved_to = random_addresses(np.full(n, None, dtype=object), rng)
    middle_kept = rng.random(n) >= MIDDLE_OMITTED
    suffix_kept = rng.random(n) < 0.5

    out = r.with_columns(
        first_name=pl.Series(first, dtype=pl.String), last_name=pl.Series(last, dtype=pl.String),
        middle_name=pl.when(pl.Series(middle_kept)).then("middle_name").otherwise(pl.lit("")),
        suffix=pl.when(pl.Series(suffix_kept)).then("suffix").otherwise(pl.lit("")),
        dob=pl.when(pl.Series(flags["missing_dob"])).then(None)
        .when(pl.Series(flags["swap_day_month"]))
        .then(pl.date(pl.col("dob").dt.year(), pl.col("dob").dt.day().clip(1, 12), pl.col("dob").dt.month()))
        .otherwise(pl.col("dob")),
        moved_address=pl.when(pl.Series(flags["moved"])).then(pl.coalesce("prev_address", pl.lit(moved_to["address"]))),
        moved_zip=pl.when(pl.Series(flags["moved"])).then(pl.coalesce("prev_zip", pl.lit(moved_to["zip"]))),
        is_duplicate_id=pl.col("is_duplicate_id") if "is_duplicate_id" in r.columns else pl.lit(False),
    )
    flags["duplicate_id"] = out["is_duplicate_id"].to_numpy()
    noise = pl.concat_list([pl.when(pl.lit(pl.Series(f))).then(pl.lit(k)) for k, f in flags.items()]).list.drop_nulls()
    return out.with_columns(noise=noise).drop("prev_address", "prev_zip", "birth_last_name")
