"""Preparing identity records for linkage: the latest birth date a record allows (``born_by``)
comes from its source's declared minimum age and the drop's load date."""

from datetime import UTC, datetime

import polars as pl
import pytest

from hub_assets.linkage.prepare import SPLINK_COLUMNS, minimum_ages, prepare_records
from hub_assets.sources.declaration import IdentityColumns


def _records(loaded_at):
    return pl.DataFrame({"record_token": ["w", "s", "m"],
                         "source": ["wage_records", "city_schools", "vital_records_mother"],
                         "first_name": ["ANA", "ANA", "ANA"], "loaded_at": [loaded_at] * 3},
                        schema_overrides={"loaded_at": pl.Datetime("us", "UTC")})


def test_born_by_is_the_load_date_less_the_declared_minimum_age():
    ages = minimum_ages()
    assert ages["wage_records"] == 14 and ages["vital_records_mother"] == 10
    assert "city_schools" not in ages  # schools declare none: their records carry no bound
    prepared = prepare_records(_records(datetime(2026, 2, 28, 9, 30, tzinfo=UTC)))
    assert prepared["born_by"].to_list() == ["2012-02-28", None, "2016-02-28"]
    # A file without load dates (`hub link` on an arbitrary file) has no bound.
    assert prepared.columns == [*SPLINK_COLUMNS, "born_by"]
    assert prepare_records(_records(None).drop("loaded_at"))["born_by"].null_count() == 3


def test_a_minimum_age_outside_0_to_100_is_refused_naming_the_role():
    with pytest.raises(ValueError, match="'mother': min_age must be"):
        IdentityColumns(role="mother", record_id="id", name_style="separate", min_age=140)
    assert IdentityColumns(role="person", record_id="id", name_style="separate", min_age=14).min_age == 14
