"""A small hand-made population of standard identity records with known truth, for the
linkage tests (independent of the synthetic-city generator so the tests stay small and fast).

Each person gets 1-4 records across sources; records carry the noise real agencies have:
nicknames, one-letter typos, swapped day/month, a changed surname, a move, a missing DOB.
Twins (same surname, DOB and address, different first name) are included on purpose.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta

import polars as pl

FIRST = {"M": ["MICHAEL", "JAMES", "ROBERT", "WILLIAM", "DAVID", "JOSEPH", "ANTHONY", "DEANDRE",
               "MALIK", "TYRONE", "CARLOS", "KEVIN", "BRIAN", "JAYDEN", "ELIJAH", "ISAIAH"],
         "F": ["JESSICA", "ELIZABETH", "KATHERINE", "JENNIFER", "AALIYAH", "DESTINY", "MARIA",
               "SAMANTHA", "PATRICIA", "KIARA", "IMANI", "NEVAEH", "ASHLEY", "BRIANNA"]}
NICK = {"MICHAEL": "MIKE", "JAMES": "JIM", "ROBERT": "BOB", "WILLIAM": "BILL", "DAVID": "DAVE",
        "JOSEPH": "JOE", "ANTHONY": "TONY", "ELIZABETH": "LIZ", "KATHERINE": "KATE",
        "JENNIFER": "JENNY", "SAMANTHA": "SAM", "PATRICIA": "PATTY", "JESSICA": "JESS"}
LAST = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "DAVIS", "WASHINGTON",
        "JACKSON", "HARRIS", "THOMPSON", "GREENE", "OKAFOR", "NGUYEN", "KOWALSKI", "BARNES",
        "PRICE", "MOORE", "TAYLOR", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT"]
STREETS = ["N CHARLES ST", "FREDERICK AVE", "GREENMOUNT AVE", "HARFORD RD", "PARK HEIGHTS AVE",
           "EDMONDSON AVE", "BELAIR RD", "YORK RD", "LIBERTY HEIGHTS AVE", "EASTERN AVE"]
ZIPS = ["21201", "21202", "21205", "21206", "21213", "21215", "21217", "21218", "21223", "21229"]
SOURCES = ["city_schools", "rec_parks", "youthworks", "hmis", "child_welfare", "juvenile_services"]
RACES = ["BLACK", "WHITE", "HISPANIC", "ASIAN", "MULTI"]

NICKNAMES = pl.DataFrame({"formal": list(NICK), "nickname": list(NICK.values())})


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))
    return word[:i] + rng.choice("AEIOURSTN") + word[i + 1:]


def people(n_persons: int = 300, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records in the standard identity schema, truth: source, record_id, person_id)."""
    rng = random.Random(seed)
    persons = []
    for pid in range(n_persons):
        if persons and rng.random() < 0.03:  # a twin of the previous person
            twin = dict(persons[-1])
            sex = rng.choice("MF")
            twin.update(person_id=f"P{pid}", sex=sex,
                        first=rng.choice([f for f in FIRST[sex] if f != twin["first"]]))
            persons.append(twin)
            continue
        sex = rng.choice("MF")
        persons.append(dict(
            person_id=f"P{pid}", sex=sex, first=rng.choice(FIRST[sex]), last=rng.choice(LAST),
            dob=date(2003, 1, 1) + timedelta(days=rng.randrange(0, 365 * 18)),
            address=f"{rng.randrange(100, 4000)} {rng.choice(STREETS)}", zip=rng.choice(ZIPS),
            race=rng.choice(RACES)))
    rows, truth = [], []
    for person in persons:
        for k in range(rng.choice([1, 2, 2, 3, 3, 4])):
            source = rng.choice(SOURCES)
            record_id = f"{source[:3].upper()}{len(rows):06d}"
            first, last, dob = person["first"], person["last"], person["dob"]
            address, zip_code = person["address"], person["zip"]
            if k:  # the first record is clean; later ones carry noise
                roll = rng.random()
                if roll < 0.10 and first in NICK:
                    first = NICK[first]
                elif roll < 0.18:
                    first = _typo(rng, first)
                elif roll < 0.24:
                    last = _typo(rng, last)
                elif roll < 0.28 and dob.day <= 12 and dob.day != dob.month:
                    dob = dob.replace(month=dob.day, day=dob.month)
                elif roll < 0.32 and person["sex"] == "F":
                    last = rng.choice(LAST)
                elif roll < 0.35:
                    dob = None
                if rng.random() < 0.15:
                    address = f"{rng.randrange(100, 4000)} {rng.choice(STREETS)}"
                    zip_code = rng.choice(ZIPS)
            rows.append(dict(record_token=f"tok_{len(rows):06d}", source=source,
                             record_id=record_id, first_name=first, middle_name=None,
                             last_name=last, dob=dob, sex=person["sex"], address=address,
                             zip=zip_code, race_ethnicity=person["race"],
                             drop_id=f"{source}_2024.csv"))
            truth.append(dict(source=source, record_id=record_id, person_id=person["person_id"]))
    return pl.DataFrame(rows, infer_schema_length=None), pl.DataFrame(truth)


def trained_model(n_persons: int = 300, seed: int = 1) -> dict:
    """A model trained on :func:`people` (cached per process: training takes seconds)."""
    return _trained(n_persons, seed)


@functools.cache
def _trained(n_persons: int, seed: int) -> dict:
    from hub_assets.linkage.pipeline import train_model
    from hub_assets.linkage.prepare import prepare_records

    records, _ = people(n_persons, seed)
    model, _ = train_model(prepare_records(records, NICKNAMES))
    return model


def write_identity_db(path, records: pl.DataFrame) -> None:
    """An identity.duckdb with the contract's records / drops / current_records for ``records``."""
    from datetime import datetime

    import duckdb

    from hub_assets.settings import private_files

    frame = records.with_columns(
        pl.lit(datetime(2024, 3, 1)).alias("loaded_at"),
        pl.col("dob").cast(pl.Date), pl.col("middle_name").cast(pl.String))
    if "ssn" not in frame.columns:  # these people come from agencies that hold no SSN
        frame = frame.with_columns(pl.lit(None, pl.String).alias("ssn"))
    drops = frame.select("drop_id").unique().with_columns(
        pl.lit(datetime(2024, 2, 15)).alias("received_at"))
    # The identity store (and its WAL) is its owner's only, as the hub makes it.
    with private_files(), duckdb.connect(str(path)) as con:
        con.register("_r", frame.to_arrow())
        con.register("_d", drops.to_arrow())
        con.execute("create or replace table records as select * from _r")
        con.execute("create or replace table drops as select * from _d")
        con.execute("create or replace view current_records as select * from records")
