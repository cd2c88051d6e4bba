"""The model's settings build, and its comparisons rank evidence the way the method intends."""

import json

import polars as pl
import pytest
from linkage_people import NICKNAMES, people, trained_model

from hub_assets.linkage.prepare import prepare_records
from hub_assets.linkage.settings import linkage_settings
from hub_assets.linkage.train import make_linker

BASE = dict(record_token="a", source="city_schools", first_name="ROBERT", last_name="OKAFOR",
            dob="2008-03-11", sex="M", address="1200 HARFORD RD", zip="21218")


def _score(model: dict, left: dict, right: dict, population: pl.DataFrame | None = None) -> float:
    records = people(300)[0] if population is None else population
    pair = pl.DataFrame([left, right]).with_columns(pl.col("dob").str.to_date())
    prepared = prepare_records(pair, NICKNAMES)
    linker = make_linker(prepare_records(records, NICKNAMES), model)
    for column in ("first_name", "last_name", "address"):
        linker.table_management.compute_tf_table(column)
    rows = prepared.to_dicts()
    scored = linker.inference.score_pair(rows[0], rows[1])
    return scored.db_api.duckdb_con.sql(f"select match_weight from {scored.physical_name}").fetchall()[0][0]


def test_settings_build_one_model_over_all_sources():
    records, _ = people(40)
    linker = make_linker(prepare_records(records, NICKNAMES), linkage_settings())
    settings = linker.misc.save_model_to_json()
    assert settings["link_type"] == "dedupe_only"
    assert [c["output_column_name"] for c in settings["comparisons"]] == [
        "first_name", "last_name", "middle_name", "dob", "sex", "location", "ssn", "source"]
    first_name_levels = [level.get("label_for_charts") for level in settings["comparisons"][0]["comparison_levels"]]
    assert "Nickname or alias of the same name" in first_name_levels
    assert any(level.get("tf_adjustment_column") == "last_name"
               for level in settings["comparisons"][1]["comparison_levels"])


@pytest.mark.parametrize("changed, description", [
    ({"first_name": "BOB"}, "nickname"),
    ({"dob": "2008-11-03"}, "day and month swapped"),
])
def test_near_evidence_scores_higher_than_a_mismatch(changed, description):
    model = trained_model()
    near = _score(model, BASE, {**BASE, "record_token": "b", **changed})
    mismatch_value = {"first_name": "KEVIN", "dob": "2001-07-25"}[next(iter(changed))]
    far = _score(model, BASE, {**BASE, "record_token": "b", next(iter(changed)): mismatch_value})
    assert near > far + 3, f"{description}: {near} vs mismatch {far}"


def test_common_surname_counts_for_less_than_a_rare_one():
    model = trained_model()
    records, _ = people(300)
    # A population where SMITH is very common and ZYGMUNT appears once (term frequencies).
    smiths = records.head(150).with_columns(pl.lit("SMITH").alias("last_name"),
                                            ("s" + pl.col("record_token")).alias("record_token"))
    zygmunt = records.head(1).with_columns(pl.lit("ZYGMUNT").alias("last_name"),
                                           pl.lit("z1").alias("record_token"))
    population = pl.concat([records, smiths, zygmunt])
    smith = {**BASE, "last_name": "SMITH"}
    common = _score(model, {**smith, "first_name": "KEVIN", "dob": "2001-01-01"},
                    {**smith, "record_token": "b", "first_name": "MALIK", "dob": "2011-05-05"}, population)
    rare = _score(model, {**BASE, "first_name": "KEVIN", "last_name": "ZYGMUNT", "dob": "2001-01-01"},
                  {**BASE, "record_token": "b", "first_name": "MALIK", "last_name": "ZYGMUNT",
                   "dob": "2011-05-05"}, population)
    assert rare > common + 1


def test_a_shared_ssn_links_a_wage_record_that_has_only_a_name_and_zip():
    """Wage records carry a name, a ZIP and an SSN: no DOB (often), sex or address. With the
    starter model (trained on the synthetic city, which has SSNs), the same SSN makes the pair a
    link; a different SSN is evidence against; no SSN on one side leaves name and ZIP alone."""
    from hub_assets.linkage.settings import MATCH_THRESHOLD
    from hub_assets.linkage.starter import STARTER_MODEL

    model = json.loads(STARTER_MODEL.read_text())
    housing = {**BASE, "first_name": "MICHAEL", "last_name": "JOHNSON", "ssn": "212-34-2405"}
    wage = dict(record_token="b", source="wage_records", first_name="MICHAEL", last_name="JOHNSON",
                dob=None, sex=None, address=None, zip="21218", ssn="212342405")

    def probability(right: dict) -> float:
        weight = _score(model, housing, right)
        return 2 ** weight / (1 + 2 ** weight)

    same, mistyped = probability(wage), probability({**wage, "ssn": "212342450"})
    unknown, different = probability({**wage, "ssn": None}), probability({**wage, "ssn": "390118877"})
    assert same >= MATCH_THRESHOLD and mistyped >= MATCH_THRESHOLD
    assert different < unknown < MATCH_THRESHOLD


def test_two_records_of_one_agency_are_weaker_evidence_than_two_agencies_records():
    """An agency's extract holds one record per client: the starter model (trained,
    unsupervised, on the synthetic city) learnt that a match within one source is rarer."""
    same_source = _starter_weight(BASE, {**BASE, "record_token": "b", "zip": "21217", "address": None})
    two_sources = _starter_weight(BASE, {**BASE, "record_token": "b", "zip": "21217", "address": None,
                                         "source": "rec_parks"})
    assert two_sources > same_source + 2


def _starter_weight(left: dict, right: dict) -> float:
    from hub_assets.linkage.starter import STARTER_MODEL

    return _score(json.loads(STARTER_MODEL.read_text()), left, right)


def test_a_mothers_maiden_name_on_a_birth_record_counts_less_against_her_than_a_changed_name():
    """Birth certificates give the mother's surname at birth (declared ``surname_at_birth``);
    her wage record carries her married name. The same difference between two current names
    is stronger evidence of two people."""
    mother = dict(record_token="a", source="vital_records_mother", first_name="KIARA",
                  last_name="OKAFOR", dob="1996-04-02", sex=None, address="1200 HARFORD RD",
                  zip="21218", ssn=None)
    wage = dict(record_token="b", source="wage_records", first_name="KIARA", last_name="PRICE",
                dob="1996-04-02", sex=None, address=None, zip="21218", ssn="212342405")
    maiden = _starter_weight(mother, wage)
    changed = _starter_weight({**mother, "source": "hmis"}, wage)
    both_at_birth = _starter_weight(mother, {**wage, "source": "vital_records_mother", "ssn": None})
    assert maiden > changed + 2, (maiden, changed)
    # Two birth records both hold her surname at birth: a difference there is a real one.
    assert both_at_birth < maiden - 2, (both_at_birth, maiden)


def test_a_hyphenated_surname_containing_the_other_is_evidence_for_a_match():
    left = {**BASE, "last_name": "JOHNSON-BELL"}
    joined = _starter_weight(left, {**BASE, "record_token": "b", "last_name": "JOHNSON"})
    unrelated = _starter_weight(left, {**BASE, "record_token": "b", "last_name": "OKAFOR"})
    assert joined > unrelated + 3, (joined, unrelated)


def test_different_middle_names_tell_namesakes_apart_and_a_missing_one_is_neutral():
    """Two records with one common name and birth date in different ZIPs: the same person who
    moved, or two people. Where both carry a middle name it decides; an initial agrees with
    the full name; a missing one says nothing."""
    left = {**BASE, "first_name": "JAYLEN", "last_name": "WILLIAMS", "middle_name": "ANDREW"}
    right = {**left, "record_token": "b", "address": "5374 WILKENS AVE", "zip": "21229"}
    same = _starter_weight(left, right)
    initial = _starter_weight(left, {**right, "middle_name": "A"})
    missing = _starter_weight(left, {**right, "middle_name": None})
    different = _starter_weight(left, {**right, "middle_name": "LOGAN"})
    assert same > initial > missing > different + 5, (same, initial, missing, different)
