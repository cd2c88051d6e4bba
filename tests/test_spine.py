"""The spine and crosswalk in the warehouse: no identifiers, every record mapped once, and
the documented rules for attributes that differ across a person's records."""

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from hub_assets.linkage import operations, store
from hub_assets.linkage.spine import IDENTIFIER_COLUMNS, person_spine
from linkage_people import people, write_identity_db


@pytest.fixture
def published(tmp_path):
    records, _ = people(60)
    identity_db = tmp_path / "identity.duckdb"
    write_identity_db(identity_db, records)
    # a person key per (first letter of last name, dob year) -- any mapping works for the spine
    keys = records.select("record_token", pl.concat_str(
        pl.col("last_name").str.slice(0, 1), pl.col("dob").dt.year().cast(pl.String).fill_null("x")
    ).alias("person_key"))
    with duckdb.connect(str(identity_db)) as identity, \
            duckdb.connect(str(tmp_path / "warehouse.duckdb")) as warehouse:
        store.replace(identity, "person_keys", keys)
        counts = operations.publish_spine(identity, warehouse)
        tables = {name: warehouse.sql(f"select * from spine.{name}").pl() for name in counts}
    return records, keys, tables


def test_spine_tables_carry_no_identifier_columns_or_values(published):
    records, _, tables = published
    names = set(records["first_name"]) | set(records["last_name"]) | set(records["address"])
    for name, table in tables.items():
        assert not IDENTIFIER_COLUMNS & set(table.columns), name
        for column in table.columns:
            if table.schema[column] == pl.String:
                assert not names & set(table[column].drop_nulls()), (name, column)
    assert "record_id" not in tables["person_crosswalk"].columns


def test_every_current_record_token_is_mapped_exactly_once(published):
    records, _, tables = published
    walk = tables["person_crosswalk"]
    assert walk["record_token"].is_unique().all()
    assert set(walk["record_token"]) == set(records["record_token"])
    assert walk["person_key"].null_count() == 0


def test_spine_has_one_row_per_person_with_month_but_no_day(published):
    _, keys, tables = published
    spine = tables["person_spine"]
    assert spine["person_key"].is_unique().all()
    assert set(spine["person_key"]) == set(keys["person_key"])
    assert "birth_month" in spine.columns and "dob" not in spine.columns
    assert spine["n_records"].sum() == keys.height
    assert spine["first_seen"].min() == date(2024, 2, 15)


def test_conflicting_attributes_follow_the_documented_rules():
    def rec(token, sex, race, dob, loaded, zip_code):
        return dict(record_token=token, source="vital_records_mother", dob=dob, sex=sex,
                    race_ethnicity=race, address=None, zip=zip_code, loaded_at=loaded)
    records = pl.DataFrame([
        rec("a", "F", "BLACK", date(2008, 5, 1), datetime(2024, 1, 1), "21218"),
        rec("b", "F", "UNKNOWN", date(2008, 5, 1), datetime(2024, 2, 1), "21218"),
        rec("c", "M", "UNKNOWN", date(2008, 1, 5), datetime(2024, 3, 1), "21201"),
    ])
    keys = pl.DataFrame({"record_token": ["a", "b", "c"], "person_key": ["P", "P", "P"]})
    seen = records.select("record_token", pl.col("loaded_at").dt.date().alias("first_seen"),
                          pl.col("loaded_at").dt.date().alias("last_seen"))
    [row] = person_spine(records, keys, seen).to_dicts()
    assert row["sex"] == "F"  # majority, not the latest
    assert row["race_ethnicity"] == "BLACK"  # known beats UNKNOWN even when outnumbered
    assert (row["birth_year"], row["birth_month"]) == (2008, 5)
    assert row["systems"] == ["vital_records"]  # the mother's block belongs to vital records
    assert row["last_seen"] == date(2024, 3, 1) and row["first_seen"] == date(2024, 1, 1)
    assert row["neighbourhood"] is not None  # from the latest record's ZIP 21201


def test_neighbourhood_comes_from_the_latest_record_with_an_address_or_zip():
    from hub_assets.reference.geography import zip_lookup

    csa_of_zip = dict(zip_lookup().iter_rows())
    assert csa_of_zip["21201"] != csa_of_zip["21218"]

    def rec(token, loaded, zip_code):
        return dict(record_token=token, source="city_schools", dob=date(2010, 1, 1), sex="F",
                    race_ethnicity="BLACK", address=None, zip=zip_code, loaded_at=loaded)
    records = pl.DataFrame([
        rec("a", datetime(2024, 1, 1), "21218"),
        rec("b", datetime(2024, 3, 1), "21201"),
        rec("c", datetime(2024, 4, 1), None),  # latest, but says nothing about where
        rec("d", datetime(2024, 2, 1), "21218"),
    ])
    keys = pl.DataFrame({"record_token": ["a", "b", "c", "d"], "person_key": ["P"] * 4})
    seen = records.select("record_token", pl.col("loaded_at").dt.date().alias("first_seen"),
                          pl.col("loaded_at").dt.date().alias("last_seen"))
    [row] = person_spine(records, keys, seen).to_dicts()
    assert row["neighbourhood"] == csa_of_zip["21201"]
