"""Differencing two real releases: ``hub run`` on a small synthetic city, then a late Rec & Parks
drop of a few new youth from one neighbourhood and a second ``hub run``. An attacker holds both
releases' public files. Published each table on its own with exact counts, the late drop reads
exactly as the change of a shown cell; the releases the hub published give no change away, and
the attacker audit over both passes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from hub_assets.dbt.manifest import load_manifest, published_marts
from hub_assets.disclosure.release import RELEASE_FILE, current_release
from hub_assets.disclosure.release_audit import Publication, audit_tables
from hub_assets.disclosure.suppression import disclosure_settings, publish
from hub_assets.settings import HubPaths
from hub_assets.synth import generate_city

from .conftest import run_hub_cli

pytestmark = [pytest.mark.slow]
LATE = 3  # new youth in the late drop


NEWCOMERS = [("Quillfeather, Zephyrine", "2012-01-15"), ("Brightwater, Octavia", "2010-06-03"),
             ("Ashcombe, Marigold", "2013-10-27"), ("Vantongeren, Isolde", "2011-03-09"),
             ("Pemberton-Oyelaran, Ruth", "2009-08-21")]


def _late_drop(landing: Path, youth: int) -> Path:
    """A Rec & Parks drop after the summer's last one: ``youth`` new youth from one Canton street,
    each at one summer camp week of 2026. They are different people (names, birth dates and
    houses far apart), so linkage keeps them apart and each is a newcomer to the marts."""
    folder = landing / "rec_parks"
    header = next(csv.reader((folder / sorted(p.name for p in folder.glob("*.csv"))[-1]).open()))
    path = folder / "recparks_registrations_2026-09-15.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for i, (name, born) in enumerate(NEWCOMERS[:youth]):
            out.writerow([f"19000000{i}", name, born, "Female", f"{2600 + 40 * i} S East Ave", "21224", "White",
                          f"R1900000{i}", "Camp - Summer 2026", "Camp", "Canton Recreation Center",
                          "2026-07-13", "2026-07-17"])
    return path


def _marts(paths: HubPaths, marts) -> dict:
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        return {m.name: con.sql(f'select * from "{m.schema}"."{m.relation}"').pl() for m in marts}


def _release(folder: Path, marts) -> dict:
    return {m.name: (m, pl.read_parquet(folder / m.use_case / f"{m.name}.parquet")) for m in marts}


def _shown_changes(before: dict, after: dict) -> dict[str, int]:
    """Every count shown in both releases, keyed by table, row and column: its change."""
    changes = {}
    for name, (mart, new) in after.items():
        old = before[name][1]
        keys = mart.spec.dimensions
        joined = new.join(old, on=list(keys), how="inner", suffix="_before")
        for count in mart.spec.counts:
            shown = joined.filter(~pl.col(f"{count}_suppressed") & ~pl.col(f"{count}_suppressed_before"))
            for row in shown.iter_rows(named=True):
                where = ", ".join(f"{d}={row[d]}" for d in keys)
                changes[f"{name}.{count} at {where}"] = row[count] - row[f"{count}_before"]
    return changes


def test_a_late_drop_of_a_few_youth_cannot_be_read_by_differencing_two_releases(tmp_path):
    city, data = tmp_path / "city", tmp_path / "data"
    generate_city(persons=300, seed=3, out=city)
    shutil.copytree(city / "landing", data / "landing")
    paths, marts = HubPaths(data), published_marts(load_manifest())
    settings = disclosure_settings()

    first_run = run_hub_cli(data)
    assert first_run.returncode == 0, first_run.stdout[-3000:] + first_run.stderr[-3000:]
    first, truth_before = current_release(paths.public), _marts(paths, marts)
    _late_drop(data / "landing", LATE)
    second_run = run_hub_cli(data)
    assert second_run.returncode == 0, second_run.stdout[-3000:] + second_run.stderr[-3000:]
    second, truth_after = current_release(paths.public), _marts(paths, marts)
    assert second != first and json.loads((second / RELEASE_FILE).read_text())["previous_release"] == first.name

    # Without protection (each table on its own, exact counts), cells shown in both releases
    # change by exactly the late drop: the three newcomers are read off by subtraction.
    exact = [{m.name: (m, publish(truth[m.name], m.spec, settings.min_cell_size, m.name)) for m in marts}
             for truth in (truth_before, truth_after)]
    readable = {cell: change for cell, change in _shown_changes(*exact).items() if change == LATE}
    assert "summer_engagement_overview.participants at summer_year=2026" in readable, readable

    # The releases the hub published: every shown count rounded, so no change of a shown cell is
    # exact, and the attacker audit over both releases (every table, every relation) passes.
    before, after = _release(first, marts), _release(second, marts)
    changes = _shown_changes(before, after)
    assert changes and all(change % settings.rounding_base == 0 for change in changes.values())
    record = json.loads((first / RELEASE_FILE).read_text())
    audit = audit_tables(after, before, settings.min_cell_size, settings.rounding_base, settings.protection_width,
                         previous_publication=Publication(record["min_cell_size"], record["rounding_base"]))
    assert audit.ok, audit.failures[:10]
    assert audit.changes_compared >= len(changes) > 0
