"""What intake tells people about a drop: the run's metadata and the steward's report.

The report (``reports/<agency>/<drop_id>.md``) is written for the agency's data steward: how
many rows arrived, were accepted and were quarantined, and for each quarantined row its row
number, column, rule and the kind of value, never the value itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

REPORT_ROW_LIMIT = 1000  # quarantined rows listed individually; the counts always cover all

RULE_HELP = {
    "required_missing": "a required value is empty",
    "code_not_in_set": "the value is not one of the declared codes",
    "date_format": "the value is not a date in the declared format",
    "impossible_date": "the value has the date format but is not a real date (e.g. 02/30, or day and month swapped)",
    "not_an_integer": "the value is not a whole number",
    "not_a_number": "the value is not a number",
    "not_a_boolean": "the value is not one of the declared yes/no values",
    "wrong_field_count": "the row has a different number of fields than the header",
    "duplicate_row": "the row repeats an earlier row of the same file, value for value",
    "date_in_future": "the date is after the day the file arrived",
    "dob_before_floor": "the date of birth is before the earliest the agency's declaration allows",
    "dob_after_service_date": "the date of birth is after the row's service date",
    "age_out_of_range": "the person's age at the service date is outside the agency's declared range",
}


@dataclass
class IntakeResult:
    agency: str
    drop_id: str
    file_name: str
    sha256: str
    size_bytes: int
    rows_received: int
    rows_accepted: int
    rows_quarantined: int
    supersedes: str | None
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    nulled: dict[str, int] = field(default_factory=dict)
    null_rates: dict[str, float] = field(default_factory=dict)
    date_ranges: dict[str, tuple[date | None, date | None]] = field(default_factory=dict)
    identity_records: int = 0
    report_path: Path | None = None


def null_rates(frame: pl.DataFrame, columns: list[str]) -> dict[str, float]:
    if frame.height == 0:
        return {c: 0.0 for c in columns}
    counts = frame.select(pl.col(c).null_count() for c in columns).row(0)
    return {c: round(n / frame.height, 4) for c, n in zip(columns, counts)}


def date_ranges(content: pl.DataFrame) -> dict[str, tuple[date | None, date | None]]:
    cols = [c for c, t in content.schema.items() if t == pl.Date]
    return {c: (content[c].min(), content[c].max()) for c in cols}


def quarantine_by_rule(quarantine: pl.DataFrame) -> dict[str, int]:
    """Distinct rows per rule (a row failing one rule in two columns counts once for it)."""
    if quarantine.is_empty():
        return {}
    grouped = quarantine.group_by("rule").agg(pl.col("row_number").n_unique().alias("n")).sort("rule")
    return dict(zip(grouped["rule"], grouped["n"]))


def write_report(path: Path, result: IntakeResult, title: str, quarantine: pl.DataFrame) -> Path:
    lines = [
        f"# {title}: drop {result.drop_id}", "",
        f"- file: `{result.file_name}` (sha256 `{result.sha256}`, {result.size_bytes} bytes)",
        f"- rows received: **{result.rows_received}**",
        f"- rows accepted: **{result.rows_accepted}**",
        f"- rows quarantined: **{result.rows_quarantined}**",
    ]
    if result.supersedes:
        lines.append(f"- this corrected delivery replaces drop `{result.supersedes}` (and any earlier version)")
    if result.quarantined_by_rule:
        lines += ["", "## Quarantined rows by reason", "", "| rule | meaning | rows |", "|---|---|---|"]
        lines += [f"| {rule} | {RULE_HELP.get(rule, '')} | {n} |" for rule, n in result.quarantined_by_rule.items()]
        lines += ["", "## Quarantined rows", "",
                  "Row numbers count data rows from 1 (the header is not counted).", "",
                  "| row | column | rule | kind of value |", "|---|---|---|---|"]
        for r in quarantine.sort("row_number").head(REPORT_ROW_LIMIT).iter_rows(named=True):
            lines.append(f"| {r['row_number']} | {r['column_name'] or ''} | {r['rule']} | {r['value_class']} |")
        if quarantine.height > REPORT_ROW_LIMIT:
            lines.append(f"| … | | {quarantine.height - REPORT_ROW_LIMIT} more | |")
    if result.nulled:
        lines += ["", "## Values that could not be read (row kept, value left empty)", "",
                  "| column: problem | rows |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in result.nulled.items()]
    if result.date_ranges:
        lines += ["", "## Date ranges", "", "| column | earliest | latest |", "|---|---|---|"]
        lines += [f"| {c} | {lo} | {hi} |" for c, (lo, hi) in result.date_ranges.items()]
    if result.null_rates:
        lines += ["", "## Empty values among accepted rows", "", "| column | share empty |", "|---|---|"]
        lines += [f"| {c} | {rate:.1%} |" for c, rate in result.null_rates.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_rejection_report(path: Path, title: str, drop_id: str, file_name: str, problem: str,
                           quarantine: pl.DataFrame | None = None) -> Path:
    lines = [f"# {title}: drop {drop_id} was rejected", "", f"- file: `{file_name}`", f"- problem: {problem}",
             "- nothing from this file was loaded; the file is kept in the archive. Send a corrected file "
             "with the same name to replace it, or withdraw the drop (`hub drops withdraw`)."]
    if quarantine is not None and not quarantine.is_empty():
        lines += ["", "## Quarantined rows", "", "Row numbers count data rows from 1 (the header is not counted).",
                  "", "| row | column | rule | meaning | kind of value |", "|---|---|---|---|---|"]
        for r in quarantine.sort("row_number").head(REPORT_ROW_LIMIT).iter_rows(named=True):
            lines.append(f"| {r['row_number']} | {r['column_name'] or ''} | {r['rule']} | "
                         f"{RULE_HELP.get(r['rule'], '')} | {r['value_class']} |")
        if quarantine.height > REPORT_ROW_LIMIT:
            lines.append(f"| … | | {quarantine.height - REPORT_ROW_LIMIT} more | | |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
