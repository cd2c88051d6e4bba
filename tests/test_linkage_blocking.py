"""Which pairs the prediction blocking rules let the model score (blocking.PREDICTION_RULES)."""

import polars as pl

from hub_assets.linkage.blocking import NO_DOB_FIRST_NAME_SLIP, NO_DOB_SURNAME_SLIP, PREDICTION_RULES, block_pairs
from hub_assets.linkage.prepare import prepare_records
from hub_assets.linkage.settings import linkage_settings
from hub_assets.linkage.train import make_linker
from linkage_people import NICKNAMES

SCHOOL = dict(record_token="s", source="city_schools", first_name="MYA", last_name="JOHNSON",
              dob="2007-02-14", sex="F", address="1200 HARFORD RD", zip="21206", ssn=None)
WAGE = dict(record_token="w", source="wage_records", first_name="MYA", last_name="JOHSON",
            dob=None, sex=None, address=None, zip="21206", ssn="212342405")


def _blocked_by(*records: dict) -> list[int]:
    frame = pl.DataFrame(list(records)).with_columns(pl.col("dob").str.to_date())
    linker = make_linker(prepare_records(frame, NICKNAMES), linkage_settings())
    pairs = block_pairs(linker)
    con = linker._db_api.duckdb_con
    return sorted(int(row[0]) for row in con.sql(f"select match_key from {pairs.physical_name}").fetchall())


def test_a_record_without_dob_and_a_surname_typo_is_still_scored():
    # Name, ZIP and DOB rules all miss this pair: only the surname-slip rule blocks it.
    assert _blocked_by(SCHOOL, WAGE) == [PREDICTION_RULES.index(NO_DOB_SURNAME_SLIP)]


def test_the_surname_slip_rule_leaves_pairs_that_both_have_a_dob_to_the_dob_rules():
    with_dob = {**WAGE, "dob": "2011-09-30"}  # a different DOB: no DOB rule pairs them either
    assert _blocked_by(SCHOOL, with_dob) == []
    hyphenated = {**WAGE, "last_name": "JOHNSON-BELL"}
    assert _blocked_by(SCHOOL, hyphenated) == [PREDICTION_RULES.index(NO_DOB_SURNAME_SLIP)]


def test_a_record_without_dob_and_a_first_name_typo_is_still_scored():
    # The surname-slip rule with the names' roles exchanged: MYA / MIA, same surname and ZIP.
    slipped = {**WAGE, "first_name": "MIA", "last_name": "JOHNSON"}
    assert _blocked_by(SCHOOL, slipped) == [PREDICTION_RULES.index(NO_DOB_FIRST_NAME_SLIP)]
    assert _blocked_by(SCHOOL, {**slipped, "dob": "2011-09-30"}) == []  # both dated: the DOB rules' call
