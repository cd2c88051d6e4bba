"""The synthetic city: deterministic, faithful to the declarations, noisy as declared, and
populated with the people the use cases look for (twins, young parents, crossover youth,
opportunity youth). Also the reference geography the intake uses for neighbourhoods."""

from __future__ import annotations

import hashlib
import io
import json
import math
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from hub_assets.reference import geography
from hub_assets.reference.names import nicknames
from hub_assets.sources.declaration import load_agencies
from hub_assets.synth import generate_city

NOISE_SCALE = 2.0  # doubles every rate so a few thousand persons measure them well


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(persons=3000, seed=11, out=out, noise_scale=NOISE_SCALE)
    return out


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "landing").rglob("*")) if p.is_file()}


def _read(agency, path: Path) -> pl.DataFrame:
    text = path.read_bytes().decode(agency.encoding)
    return pl.read_csv(io.StringIO(text), separator=agency.delimiter, infer_schema=False)


def _drops(city: Path):
    for agency in load_agencies():
        for path in sorted((city / "landing" / agency.name).iterdir()):
            yield agency, path, _read(agency, path)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_city(persons=300, seed=seed, out=tmp_path / name)
    a, b, c = (_digests(tmp_path / n) for n in "abc")
    assert a == b
    assert a != c
    for f in ("persons.parquet", "records.parquet"):
        assert pl.read_parquet(tmp_path / "a" / "truth" / f).equals(pl.read_parquet(tmp_path / "b" / "truth" / f))


def test_every_agency_sends_several_drops_matching_its_file_pattern(city):
    for agency in load_agencies():
        files = sorted(p.name for p in (city / "landing" / agency.name).iterdir())
        assert 2 <= len(files) <= 6, (agency.name, files)
        assert all(agency.matches(f) for f in files), (agency.name, files)


def test_headers_are_the_declared_columns_and_dates_parse_in_the_declared_format(city):
    problems = pl.read_parquet(city / "truth" / "problems.parquet")
    planted = {(r["drop_file"], r["row_number"], r["column"]) for r in problems.iter_rows(named=True)}
    checked = 0
    for agency, path, frame in _drops(city):
        assert frame.columns == agency.expected_columns, path.name
        date_cols = [c.name for c in agency.content if c.type == "date"] + [b.dob for b in agency.identities if b.dob]
        for col in dict.fromkeys(date_cols):
            for row, value in enumerate(frame[col].to_list(), start=1):
                if value is None or (path.name, row, col) in planted:
                    continue
                datetime.strptime(value, agency.date_format)
                checked += 1
    assert checked > 10_000
    # The planted impossible dates really are impossible in the declared format.
    for r in problems.filter(pl.col("problem") == "impossible_date").iter_rows(named=True):
        agency = next(a for a in load_agencies() if a.name == r["agency"])
        with pytest.raises(ValueError):
            datetime.strptime(r["value"], agency.date_format)


def test_truth_records_are_exactly_the_record_ids_in_the_drops(city):
    seen = set()
    for agency, _path, frame in _drops(city):
        for block in agency.identities:
            source = agency.name if block.role == "person" else f"{agency.name}_{block.role}"
            seen |= {(source, rid) for rid in frame[block.record_id].to_list()}
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    assert set(zip(truth["source"], truth["record_id"])) == seen
    assert truth.select("source", "record_id").is_duplicated().sum() == 0
    rows = pl.read_parquet(city / "truth" / "rows.parquet")
    per_file = dict(rows.group_by("drop_file").len().rows())
    assert per_file == {path.name: frame.height for _, path, frame in _drops(city)}


def _first_rows(city: Path) -> pl.DataFrame:
    """The first row of each primary record in a separate-name-style drop, with the truth."""
    frames = []
    for agency, _path, frame in _drops(city):
        block = agency.primary
        if block.name_style != "separate" or not block.dob:
            continue
        frames.append(frame.select(
            pl.lit(agency.name).alias("source"), pl.col(block.record_id).alias("record_id"),
            pl.col(block.first_name).alias("first"), pl.col(block.dob).str.to_date(agency.date_format, strict=False)
            .alias("dob_seen"), pl.col(block.dob).alias("dob_raw")))
    seen = pl.concat(frames).unique(["source", "record_id"], keep="first", maintain_order=True)
    truth = pl.read_parquet(city / "truth" / "records.parquet").join(
        pl.read_parquet(city / "truth" / "persons.parquet"), on="person_id")
    return seen.join(truth, on=["source", "record_id"])


def _expected(records: pl.DataFrame, kind: str, eligible: pl.Expr | None = None) -> tuple[float, int]:
    rates = {a.name: a.noise.get(kind, 0.0) * NOISE_SCALE for a in load_agencies()}
    sel = records if eligible is None else records.filter(eligible)
    expected = sum(rates[s] for s in sel["source"].to_list())
    return expected, sel.height


def _assert_close(observed: int, expected: float, what: str) -> None:
    # Binomial-ish tolerance: four standard deviations, and never tighter than 3 records.
    tolerance = max(4 * math.sqrt(expected), 3)
    assert abs(observed - expected) <= tolerance, f"{what}: observed {observed}, expected {expected:.1f}"


def test_missing_and_swapped_birth_dates_occur_at_the_declared_rates(city):
    recs = _first_rows(city).filter(pl.col("dob_raw").is_null() | pl.col("dob_seen").is_not_null())
    missing = recs.filter(pl.col("dob_raw").is_null()).height
    _assert_close(missing, _expected(recs, "missing_dob")[0], "missing dob")
    present = recs.filter(pl.col("dob_seen").is_not_null())
    swappable = (pl.col("dob").dt.day() <= 12) & (pl.col("dob").dt.day() != pl.col("dob").dt.month())
    swapped = present.filter(swappable & (pl.col("dob_seen").dt.month() == pl.col("dob").dt.day())
                             & (pl.col("dob_seen").dt.day() == pl.col("dob").dt.month())).height
    expected, n = _expected(present, "swap_day_month", swappable)
    assert n > 1000
    _assert_close(swapped, expected, "swapped day/month")
    assert present.filter(~swappable & (pl.col("dob_seen") != pl.col("dob"))).height == 0


def _ascii_upper(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_uppercase().str.normalize("NFKD").str.replace_all(r"\p{M}", "")


def test_nicknames_and_typos_occur_at_the_declared_rates(city):
    recs = _first_rows(city).with_columns(seen=_ascii_upper(pl.col("first")), real=_ascii_upper(pl.col("first_name")))
    pairs = nicknames()
    formal = set(pairs["formal"].to_list())
    nick_of = set(zip(pairs["formal"], pairs["nickname"]))
    eligible = pl.col("real").is_in(formal)
    observed = sum((r, s) in nick_of for r, s in zip(recs["real"], recs["seen"]))
    expected, n = _expected(recs, "nickname", eligible)
    assert n > 500
    _assert_close(observed, expected, "nicknames")
    # Typos: half land on the first name; a typo is one or two edits away from the truth.
    changed = recs.filter((pl.col("seen") != pl.col("real")) & ~pl.col("noise").list.contains("nickname"))
    typos = sum(_edits(a, b) <= 2 for a, b in zip(changed["seen"], changed["real"]))
    expected_typos = _expected(recs, "typo")[0] / 2
    _assert_close(typos, expected_typos, "first-name typos")
    assert changed.filter(~pl.col("noise").list.contains("typo")).height == 0


def _edits(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_noise_scale_zero_reproduces_the_true_identity(tmp_path):
    generate_city(persons=300, seed=3, out=tmp_path, noise_scale=0.0)
    records = pl.read_parquet(tmp_path / "truth" / "records.parquet")
    assert records["noise"].list.set_difference(["maiden_name", "duplicate_id"]).list.len().sum() == 0
    recs = _first_rows(tmp_path)
    assert recs.filter(pl.col("dob_seen") != pl.col("dob")).height == 0
    assert recs.filter(_ascii_upper(pl.col("first")) != _ascii_upper(pl.col("first_name"))).height == 0
    assert pl.read_parquet(tmp_path / "truth" / "problems.parquet").height == 0


def test_the_city_has_twins_common_names_young_parents_crossover_and_opportunity_youth(city):
    persons = pl.read_parquet(city / "truth" / "persons.parquet")
    facts = json.loads((city / "truth" / "facts.json").read_text())
    youth = persons.filter(pl.col("is_youth"))
    twins = persons.filter(pl.col("is_twin")).group_by("household_id", "dob").agg(
        pl.col("first_name").n_unique().alias("names"), pl.len())
    assert twins.height >= 10 and (twins["names"] == twins["len"]).all()
    top_first = youth["first_name"].value_counts(sort=True)
    assert top_first["count"][0] / youth.height > 0.01
    for common in ("WILLIAMS", "SMITH", "JOHNSON"):
        assert persons.filter(pl.col("last_name") == common).height > 20
    assert persons["last_name"].str.contains("-").any() and persons["last_name"].str.contains("'").any()
    assert persons["first_name"].str.contains("É").any()
    # Young parents: mothers 15-24 with babies on a vital record; older mothers appear too.
    rows = pl.read_parquet(city / "truth" / "rows.parquet").filter(pl.col("agency") == "vital_records")
    mothers = persons.filter(pl.col("person_id").is_in(rows["mother_person_id"].implode()))
    assert mothers.filter(pl.col("is_youth")).height >= 20 and mothers.filter(~pl.col("is_youth")).height >= 20
    assert facts["young_parents"]["value"] >= 20
    assert facts["crossover_youth"]["value"] >= 5
    share = facts["opportunity_youth"]["value"] / facts["opportunity_youth"]["denominator"]
    assert 0.08 <= share <= 0.25, share


def test_participation_resembles_the_city(city):
    persons = pl.read_parquet(city / "truth" / "persons.parquet").filter(pl.col("is_youth"))
    rows = pl.read_parquet(city / "truth" / "rows.parquet")
    ages = persons.with_columns(age=(pl.date(2025, 10, 31) - pl.col("dob")).dt.total_days() // 365)
    school_age = ages.filter(pl.col("age").is_between(6, 16))["person_id"]
    enrolled = rows.filter(pl.col("drop_file") == "cps_enrollment_2025-10.csv")["person_id"]
    share = school_age.is_in(enrolled.implode()).mean()
    assert 0.75 <= share <= 0.92, share
    black = persons["race_ethnicity"].eq("BLACK").mean()
    assert 0.5 <= black <= 0.8, black
    assert persons["csa"].n_unique() >= 50


def test_street_key_normalises_numbers_units_suffixes_and_directions():
    addresses = pl.Series(["1234 N. Montford Ave., Apt 2", "12 West North Avenue", "5 St. Paul Street #3",
                           "700 North Avenue", "3305 O'Donnell St.", None])
    keys = pl.select(geography.street_key(pl.lit(addresses))).to_series().to_list()
    assert keys == ["N MONTFORD AVE", "W NORTH AVE", "ST PAUL ST", "NORTH AVE", "ODONNELL ST", None]


def test_neighbourhood_uses_street_and_zip_then_zip_alone():
    df = pl.DataFrame({"addr": ["1234 N Montford Avenue", "1 Nowhere Rd", None, "9 Boston St"],
                       "zip": ["21213", "21217-0001", None, "21224"]})
    assert geography.neighbourhood(df, "addr", "zip").to_list() == [
        "Belair-Edison", geography.zip_lookup().filter(pl.col("zip") == "21217")["csa"][0], None, "Canton"]
    assert geography.neighbourhood(df, None, "zip").null_count() == 1
    assert geography.csas().height == 55
    assert geography.street_lookup().select("street_key", "zip").is_duplicated().sum() == 0


def test_no_one_is_younger_than_their_source_declares(city):
    # Linkage refuses a record younger than its source's min_age (prepare.born_by); the city
    # must honour the declarations, or that rule would split true people.
    from hub_assets.linkage.prepare import minimum_ages
    from hub_assets.synth.population import REF_DATE

    persons = pl.read_parquet(city / "truth" / "persons.parquet").select("person_id", "dob")
    records = pl.read_parquet(city / "truth" / "records.parquet").join(persons, on="person_id")
    ages = minimum_ages()
    assert ages
    for source, min_age in ages.items():
        born = records.filter(pl.col("source") == source)["dob"]
        assert born.len() > 0, source
        assert born.max() <= REF_DATE.replace(year=REF_DATE.year - min_age), source
