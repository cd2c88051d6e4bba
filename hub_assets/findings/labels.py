"""Human words for the codes and column names the marts use, and a natural sort order.

A reader sees "Age at first contact" and "Black", not ``age_band_at_first_contact`` and
``BLACK``; week 2 comes before week 10. Names not listed here fall back to the column name with
spaces (``format.humanise``).
"""

from __future__ import annotations

import re

NAMES = {
    "age_band": "age band", "age_band_at_first_contact": "age at first contact", "sex": "gender",
    "race_ethnicity": "race/ethnicity", "neighbourhood": "neighbourhood", "group_value": "group",
    "dimension": "breakdown",
    "week_of_summer": "week of summer", "summer_year": "summer", "school_year": "school year",
    "system_involvement": "system involvement", "subpopulation": "subpopulation",
    "youth_in_measure": "youth counted", "youth_compared": "students compared",
    "effect": "estimated effect", "effect_lower": "95% interval from", "effect_upper": "95% interval to",
    "naive_difference": "unadjusted difference", "naive_lower": "unadjusted interval from",
    "naive_upper": "unadjusted interval to", "participant_mean": "participants' average",
    "comparison_mean": "comparison group's average",
}
VALUES = {
    "F": "Female", "M": "Male", "X": "Another gender", "unknown": "Unknown", "all": "All",
    "BLACK": "Black", "WHITE": "White", "HISPANIC": "Hispanic/Latino", "ASIAN": "Asian",
    "AIAN": "American Indian/Alaska Native", "NHPI": "Native Hawaiian/Pacific Islander",
    "MULTI": "Two or more races", "OTHER": "Another race",
    "all_youth": "All youth", "foster_care": "Foster youth", "homelessness": "Youth experiencing homelessness",
    "public_housing": "Public-housing youth", "justice_involved": "Justice-involved youth",
    "young_parent": "Young parents", "chronic_absence": "Chronically absent students",
    "involved": "Known to child welfare, juvenile or adult justice, homeless services or public housing",
    "not_involved": "Not known to those systems",
    "youthworks": "YouthWorks summer jobs", "summer_programmes": "Any summer programme",
    "family_league": "Family League out-of-school time",
    "summer_participation": "Took part in a summer programme", "opportunity_youth": "Neither in school nor working",
    "FOSTER_CARE_FIRST": "Foster care first", "JUVENILE_FIRST": "Juvenile services first",
    "household_benefits": "Youth in households on TANF or SNAP",
    "behavioral_health": "Youth served by public behavioural health",
}


def name_label(name: str) -> str | None:
    return NAMES.get(name)


def value_label(value: object) -> str | None:
    return VALUES.get(value) if isinstance(value, str) else None


_CHUNKS = re.compile(r"(\d+)")


def natural_key(value: object) -> tuple:
    """Text and numbers in reading order: "week 2" < "week 10", "5-10" < "11-13"; numbers first."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, ((0, float(value), ""),))
    text = "" if value is None else str(value)
    parts = tuple((0, float(p), "") if p.isdigit() else (1, 0.0, p.lower()) for p in _CHUNKS.split(text) if p)
    return (0 if text[:1].isdigit() else 1, parts)
