"""The committed 2,000-youth fixture city loads through intake with zero lost rows, and the
rows it planted for quarantine are exactly the rows quarantined. Truth is read only here."""

import re
import shutil

import duckdb
import polars as pl
import pytest
from conftest import TEST_SECRET_KEY

from hub_assets.defs.resources import HubResource
from hub_assets.defs.sources.checks import identifier_column_names
from hub_assets.settings import FIXTURE_CITY_DIR
from hub_assets.sources.declaration import load_agencies
from hub_assets.sources.intake import ingest_drop
from hub_assets.sources.landing import receive_new_drops
from hub_assets.sources.tokens import record_token

TRUTH = FIXTURE_CITY_DIR / "truth"
RULE_OF_PROBLEM = {"impossible_date": "impossible_date", "missing_required": "required_missing"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    data = tmp_path_factory.mktemp("city")
    shutil.copytree(FIXTURE_CITY_DIR / "landing", data / "landing")
    hub = HubResource(data_dir=str(data), secret_key=TEST_SECRET_KEY)
    results = []
    for source in load_agencies():
        registration = receive_new_drops(source, hub.paths, set())
        assert not registration.unmatched
        results += [ingest_drop(source, d, hub) for d in registration.drop_ids]
    return hub, results


def test_fixture_city_loads_with_zero_lost_rows(city):
    hub, results = city
    truth_rows = pl.read_parquet(TRUTH / "rows.parquet")
    assert sum(r.rows_received for r in results) == truth_rows.height
    assert all(r.rows_received == r.rows_accepted + r.rows_quarantined for r in results)
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        quarantined = con.sql("select agency, drop_id as drop_file, row_number from quarantine").pl()
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        tokens = pl.concat(con.sql(f"select '{s.name}' as agency, row_token from raw.{s.name}").pl()
                           for s in load_agencies())
    # The warehouse names a row by its token only; the key says which file row each one is.
    key_ = hub.key()
    located = truth_rows.select("agency", "drop_file", "row_number").with_columns(pl.struct(
        "agency", "drop_file", "row_number").map_elements(
        lambda r: record_token(key_, f"{r['agency']}.row", f"{r['drop_file']}:{r['row_number']}"),
        return_dtype=pl.String).alias("row_token"))
    assert tokens.join(located, on=["agency", "row_token"], how="anti").height == 0
    assert tokens.height == tokens.unique().height
    loaded = located.join(tokens, on=["agency", "row_token"], how="semi").drop("row_token")
    landed = pl.concat([loaded, quarantined]).unique()
    # Every row the city wrote is in the warehouse or in quarantine, and nothing else is.
    key = ["agency", "drop_file", "row_number"]
    assert truth_rows.select(key).join(landed, on=key, how="anti").height == 0
    assert landed.join(truth_rows.select(key), on=key, how="anti").height == 0


def test_planted_problems_are_exactly_what_is_quarantined(city):
    hub, _ = city
    planted = pl.read_parquet(TRUTH / "problems.parquet").select(
        "agency", "drop_file", "row_number", pl.col("column").alias("column_name"),
        pl.col("problem").replace_strict(RULE_OF_PROBLEM).alias("rule")).sort(pl.all())
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        found = con.sql("select agency, drop_id as drop_file, row_number, column_name, rule "
                        "from quarantine").pl().sort(pl.all())
    assert found.rows() == planted.rows()


def test_no_identifier_reaches_the_warehouse_from_the_city(city):
    hub, _ = city
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        records = con.sql("select * from records").pl()
    names = set(records["last_name"].drop_nulls()) | set(records["first_name"].drop_nulls())
    record_ids = set(records["record_id"])
    dobs = {d.isoformat() for d in records["dob"].drop_nulls()}
    addresses = set(records["address"].drop_nulls())
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        # Agency-assigned content IDs (enrollment, household, registration, employer) and drop IDs.
        record_ids |= {r[0].upper() for r in con.execute(
            "select value from identifiers union select drop_id from drops").fetchall()}
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            frame = con.sql(f'select * from "{schema}"."{table}"').pl()
            assert not set(frame.columns) & identifier_column_names(), f"{schema}.{table}"
            for col, dtype in frame.schema.items():
                values = set(frame[col].cast(pl.String).drop_nulls().str.to_uppercase())
                if dtype == pl.Date:
                    continue  # event dates may fall on someone's birthday; DOB columns are caught by name
                assert not values & record_ids, f"{schema}.{table}.{col} holds agency record IDs"
                assert not values & addresses, f"{schema}.{table}.{col} holds addresses"
                # Names are common words (a program called "Jordan"?): a column made of them leaks.
                named = {v for v in values if v in names}
                assert len(named) <= max(2, len(values) // 20), (
                    f"{schema}.{table}.{col} holds names {sorted(named)[:5]}"
                )
                assert not any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) and v in dobs for v in values), (
                    f"{schema}.{table}.{col} holds birth dates as text"
                )
