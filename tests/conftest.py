"""Shared fixtures: a temporary hub data directory, a hub resource on it, a Dagster instance,
and a writer of small agency drops built from the declarations (valid by default, so a test
spells out only the awkward values it is about)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from hub_assets.defs.resources import HubResource
from hub_assets.sources.declaration import AgencySource, agency

TEST_SECRET_KEY = "test-secret-key-not-for-production"


@pytest.fixture
def hub_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    monkeypatch.setenv("HUB_SECRET_KEY", TEST_SECRET_KEY)
    return data


@pytest.fixture
def hub(hub_data_dir: Path) -> HubResource:
    return HubResource(data_dir=str(hub_data_dir), secret_key=TEST_SECRET_KEY)


@pytest.fixture
def instance():
    """A real, in-memory Dagster instance (runs, event log, dynamic partitions)."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def open_shipped_instance(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], dg.DagsterInstance]:
    """Open the instance in a folder made by ``ensure_dagster_home``, as Dagster's own tools do:
    with DAGSTER_HOME pointing there (the shipped config reads its storage folder from it)."""
    def open_(home: Path) -> dg.DagsterInstance:
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        return dg.DagsterInstance.from_config(str(home))
    return open_


def valid_row(source: AgencySource, i: int) -> dict[str, str]:
    """A row every check accepts, distinct per ``i``."""
    fmt = source.date_format
    row: dict[str, str] = {}
    first_names = ["ANN", "BOB", "CARLA", "DEV", "ELLA", "FINN", "GIA", "HUGO"]
    for block in source.identities:
        first, last = first_names[i % len(first_names)], f"PERSON{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
        row[block.record_id] = f"{block.role[0].upper()}{i:05d}"
        if block.name_style == "separate":
            row[block.first_name] = first.title()
            if block.middle_name:
                row[block.middle_name] = "Q"
            row[block.last_name] = last.title()
        elif block.name_style == "last_comma_first":
            row[block.full_name] = f"{last}, {first}"
        elif block.name_style == "first_last":
            row[block.full_name] = f"{first} {last}"
        else:
            row[block.full_name] = f"{last} {first} Q"
        if block.dob:  # a second person in the row (a mother) is a generation older
            born = date(2008, 1, 1) if block is source.primary else date(1985, 1, 1)
            youngest = source.plausibility.ages.get(block.role, (0, 0))[0]
            if youngest >= 16:  # an adults-only agency (adult bookings): born early enough to be taken
                born = date(2024 - youngest - 4, 1, 1)
            # Births spread over three years only, so every row stays inside each agency's declared
            # age range (YouthWorks takes 13-24 in the summer of 2024) however many rows are asked for.
            row[block.dob] = (born + timedelta(days=37 * (i % 30))).strftime(fmt)
        if block.sex:
            row[block.sex] = next(k for k, v in source.sex_codes.items() if v)
        if block.address:
            row[block.address] = f"{100 + i} N Charles St"
        if block.zip:
            row[block.zip] = "21201"
    if source.race_column:
        row[source.race_column] = next(iter(source.race_codes))
    for col in source.content:
        if col.codes:
            value = col.codes[i % len(col.codes)]
        elif col.type == "int":
            value = str(2024 if "summer" in col.name.lower() else i % 30)
        elif col.type == "float":
            value = f"{100 + i}.50"
        elif col.type == "date":
            value = (date(2024, 6, 1) + timedelta(days=i % 60)).strftime(fmt)
        elif col.type == "bool":
            value = col.true_values[0] if i % 3 == 0 else col.false_values[0]
        else:
            value = f"{col.name[:4].upper()}{i % 7}"
        row[col.name] = value
    return row


def drop_text(source: AgencySource, rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header or source.expected_columns
    out = io.StringIO()
    writer = csv.writer(out, delimiter=source.delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue()


@pytest.fixture
def write_drop(hub_data_dir: Path) -> Callable[..., Path]:
    """``write_drop(agency, file_name, rows=None, n=5, overrides={row_index: {col: value}},
    header=None, raw=None)``: write a drop into landing/<agency>/ and return its path."""

    def _write(agency_name: str, file_name: str, rows: list[dict[str, str]] | None = None, n: int = 5,
               overrides: dict[int, dict[str, str]] | None = None, header: list[str] | None = None,
               raw: bytes | None = None) -> Path:
        source = agency(agency_name)
        path = hub_data_dir / "landing" / agency_name / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
            return path
        rows = rows if rows is not None else [valid_row(source, i) for i in range(n)]
        for i, changes in (overrides or {}).items():
            rows[i] = {**rows[i], **changes}
        path.write_bytes(drop_text(source, rows, header).encode(source.encoding))
        return path

    return _write
