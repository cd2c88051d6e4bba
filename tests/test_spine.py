"""The spine and crosswalk in the warehouse: no identifiers, every record mapped once, and
the documented rules for attributes that differ across a person's records."""

from datetime import date, datetime

import duckdb
import polars as pl
import pytest
from linkage_people import people, write_identity_db
from polars.testing import assert_frame_equal

from hub_assets.linkage import store
from hub_assets.spine.publish import publish_spine
from hub_assets.spine.rules import IDENTIFIER_COLUMNS, person_spine


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
        counts = publish_spine(identity, warehouse)
        tables = {name: warehouse.sql(f"select * from spine.{name}").pl() for name in counts
                  if name != "people_recomputed"}
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


class IdentityZone:
    """An identity zone with the real tables and view, loaded drop by drop."""

    def __init__(self, path):
        from hub_assets.sources.stores import ensure_identity_tables
        self.con = duckdb.connect(str(path))
        ensure_identity_tables(self.con)

    def load(self, drop_id: str, rows: pl.DataFrame, at: datetime) -> None:
        self.con.execute("insert into drops (drop_id, agency, file_name, sha256, received_at, status) "
                         "values (?, 'any', ?, 'x', ?, 'accepted')", [drop_id, drop_id, at])
        frame = rows.with_columns(pl.lit(drop_id).alias("drop_id"), pl.lit(at).alias("loaded_at"),
                                  pl.col("dob").cast(pl.Date), pl.col("middle_name").cast(pl.String),
                                  pl.lit(None, pl.String).alias("ssn"))
        self.con.register("_rows", frame.to_arrow())
        self.con.execute("insert into records by name select * from _rows")
        self.con.unregister("_rows")

    def keys(self, keys: pl.DataFrame) -> None:
        store.replace(self.con, "person_keys", keys)


def _spine_of(con) -> pl.DataFrame:
    return con.sql("select * from spine.person_spine order by person_key").pl()


def test_an_incremental_publish_recomputes_only_touched_people_and_equals_a_full_rebuild(tmp_path):
    records, _ = people(80, seed=3)
    first, new = records.head(records.height - 10), records.tail(10)
    zone = IdentityZone(tmp_path / "identity.duckdb")
    zone.load("d1", first, datetime(2024, 3, 1))
    keys = records.select("record_token", pl.concat_str(pl.lit("K"), pl.col("record_token").str.slice(4, 5))
                          .alias("person_key"))  # ten records per person
    zone.keys(keys.head(first.height))
    warehouse = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    counts = publish_spine(zone.con, warehouse)
    assert counts["people_recomputed"] == counts["person_spine"]  # the first publish: everyone

    # A new drop (its records join existing people and a new one), a record sent again with
    # new attributes, and one record carried to another person (as a re-link may).
    zone.load("d2", new, datetime(2024, 4, 1))
    resent = first.head(1).with_columns(pl.lit("M").alias("sex"), pl.lit("21229").alias("zip"))
    zone.load("d3", resent, datetime(2024, 5, 1))
    moved = keys.with_columns(pl.when(pl.col("record_token") == first["record_token"][20])
                              .then(pl.lit("K_MOVED")).otherwise(pl.col("person_key")).alias("person_key"))
    zone.keys(moved)
    counts = publish_spine(zone.con, warehouse)
    incremental = _spine_of(warehouse)
    assert 0 < counts["people_recomputed"] < counts["person_spine"] / 3

    rebuilt = duckdb.connect(str(tmp_path / "rebuilt.duckdb"))  # no previous publish: in full
    assert publish_spine(zone.con, rebuilt)["people_recomputed"] == counts["person_spine"]
    assert_frame_equal(incremental, _spine_of(rebuilt))


def test_a_replaced_drop_or_changed_rules_rebuild_the_spine_in_full(tmp_path, monkeypatch):
    from hub_assets.spine import delta as spine_delta
    records, _ = people(40, seed=4)
    zone = IdentityZone(tmp_path / "identity.duckdb")
    zone.load("d1", records, datetime(2024, 3, 1))
    as_boys = records.head(3).with_columns(pl.lit("M").alias("sex"))
    zone.load("d2", as_boys, datetime(2024, 4, 1))  # three records sent again, corrected
    zone.keys(records.select("record_token", pl.col("record_token").alias("person_key")))
    warehouse = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    people_n = publish_spine(zone.con, warehouse)["person_spine"]
    assert publish_spine(zone.con, warehouse)["people_recomputed"] == 0  # nothing changed
    monkeypatch.setattr(spine_delta, "rules_fingerprint", lambda: "other rules")
    assert publish_spine(zone.con, warehouse)["people_recomputed"] == people_n
    # d2 is delivered again with one of its three records: the other two fall back to d1's
    # versions, with no newer row to show it. Only the replaced drop's status tells.
    zone.con.execute("delete from records where drop_id = 'd2'")
    zone.con.execute("update drops set status = 'superseded' where drop_id = 'd2'")
    zone.load("d2v2", as_boys.head(1), datetime(2024, 5, 1))
    assert publish_spine(zone.con, warehouse)["people_recomputed"] == people_n
    rebuilt = duckdb.connect(str(tmp_path / "rebuilt.duckdb"))
    publish_spine(zone.con, rebuilt)
    assert_frame_equal(_spine_of(warehouse), _spine_of(rebuilt))
