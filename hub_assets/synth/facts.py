"""Headline numbers of the synthetic city, computed from the truth (``truth/facts.json``).

Tests compare the hub's marts with these: a perfect linkage would reproduce them exactly, so
the distance between a mart and its fact measures linkage and intake together. Every fact
names its definition next to its value.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from hub_assets.synth.timeline import age_at

SUMMER_FILES = {
    2025: ["youthworks_2025.csv", "sfc_roster_2025_a.csv", "sfc_roster_2025_b.csv",
           "recparks_registrations_2025-08-31.csv", "fl_ost_2025Q3.csv"],
    2026: ["youthworks_2026.csv", "sfc_roster_2026_a.csv", "sfc_roster_2026_b.csv",
           "recparks_registrations_2026-08-31.csv", "fl_ost_2026Q3.csv"],
}


def _persons_in(rows: pl.DataFrame, agencies: list[str] | None = None, files: list[str] | None = None) -> set[str]:
    sel = rows
    if agencies:
        sel = sel.filter(pl.col("agency").is_in(agencies))
    if files:
        sel = sel.filter(pl.col("drop_file").is_in(files))
    return set(sel["person_id"].to_list())


def compute_facts(persons: pl.DataFrame, rows: pl.DataFrame) -> dict:
    youth = persons.filter(pl.col("is_youth"))
    foster, djs = _persons_in(rows, ["child_welfare"]), _persons_in(rows, ["juvenile_services"])
    period_start = date(2025, 4, 1)
    school_2526 = _persons_in(rows, files=["cps_enrollment_2025-10.csv", "cps_enrollment_2026-03.csv"])
    wages = _persons_in(rows, files=["ui_wages_2025Q2.csv", "ui_wages_2025Q3.csv", "ui_wages_2025Q4.csv",
                                     "ui_wages_2026Q1.csv"])
    age16_24 = youth.filter(age_at(pl.col("dob"), period_start).is_between(16, 24))
    ids16_24 = set(age16_24["person_id"].to_list())
    vital = rows.filter(pl.col("agency") == "vital_records")
    youth_ids = set(youth["person_id"].to_list())
    young_mothers = set(vital["mother_person_id"].drop_nulls().to_list()) & youth_ids
    return {
        "youth_population": {"value": youth.height, "definition": "persons aged 0-24 on 2026-09-30"},
        "persons_by_agency": {
            "value": {a: int(n) for a, n in
                      rows.group_by("agency").agg(pl.col("person_id").n_unique()).sort("agency").rows()},
            "definition": "distinct true persons with at least one row in the agency's drops"},
        "summer_participants": {
            "value": {str(y): len(_persons_in(rows, files=f)) for y, f in SUMMER_FILES.items()},
            "definition": "distinct persons in YouthWorks, Summer Funding, Rec and Parks summer and Family League "
                          "summer drops of that summer: " + json.dumps(SUMMER_FILES)},
        "crossover_youth": {"value": len(foster & djs),
                            "definition": "distinct persons with rows in both child_welfare and juvenile_services"},
        "opportunity_youth": {
            "value": len(ids16_24 - school_2526 - wages), "denominator": len(ids16_24),
            "definition": "youth aged 16-24 on 2025-04-01 with no City Schools 2025-26 enrollment row and no wage "
                          "row in 2025Q2-2026Q1"},
        "disconnected_youth_latent": {
            "value": int(persons["disconnected"].sum()),
            "definition": "youth 16-24 the generator made disconnected (never enrolled, never working)"},
        "young_parents": {"value": len(young_mothers),
                          "definition": "mothers aged 0-24 on 2026-09-30 named on a vital record in the drops"},
        "twins": {"value": int(persons["is_twin"].sum()), "definition": "persons who are one of a pair of twins"},
    }


def write_facts(persons: pl.DataFrame, rows: pl.DataFrame, truth: Path) -> None:
    (truth / "facts.json").write_text(json.dumps(compute_facts(persons, rows), indent=2, sort_keys=True) + "\n")
