"""The page's answer to "are programmes benefitting children as intended?" and its
subpopulation comparisons, in sentences a community board member reads without a codebook.

Programme outcomes (``programme_outcomes/programme_outcome_estimates``): for each programme and
outcome, "participants' attendance next year was 4.0 points higher (95% interval 3.1 to 4.9)
than similar students who did not take part", with the unadjusted difference beside it and a
table by group. Subpopulations (``subpopulations/headline_rates_by_subpopulation``, and youth
served by public behavioural health from ``headline_rates_by_behavioral_health``, a table held to
a stricter threshold): each measure's rate for each subpopulation against all youth, as a sentence
and a chart. A suppressed
or unestimated figure is said to be so, never shown as zero.
"""

from __future__ import annotations

from html import escape

from hub_assets.findings.charts import Bar, bar_chart
from hub_assets.findings.format import humanise, value_text
from hub_assets.findings.labels import natural_key
from hub_assets.findings.tables import PublicTable

# outcome: (what is measured, unit). Units: "points" (percentage points) or "dollars".
OUTCOMES = {
    "attendance_rate": ("attendance next school year", "points"),
    "chronic_absence": ("share chronically absent next school year", "points"),
    "enrolled_next_year": ("share still enrolled next school year", "points"),
    "employed": ("share with a job in the six months after the summer", "points"),
    "earnings": ("earnings in the six months after the summer", "dollars"),
}
PROGRAMME_ORDER = ["youthworks", "summer_programmes", "family_league"]
ALL_YOUTH = "all_youth"  # everyone the measure covers, in any subpopulation or none
STRICTER_TABLE = "headline_rates_by_behavioral_health"  # a subpopulation held to a stricter threshold
DIMENSION_ORDER = ["all", "sex", "race_ethnicity", "age_band", "system_involvement"]


def _table(tables: list[PublicTable], stem: str) -> PublicTable | None:
    return next((t for t in tables if t.name == stem), None)


def _hidden(table: PublicTable, row: dict, *columns: str) -> bool:
    return any(table.cell(row, c).suppressed for c in columns)


def _amount(value: float, unit: str) -> str:
    return f"${abs(value):,.0f}" if unit == "dollars" else f"{abs(value):.1f} points"


def _signed(value: float, unit: str) -> str:
    return (f"-${abs(value):,.0f}" if value < 0 else f"${value:,.0f}") if unit == "dollars" else f"{value:.1f}"


def effect_sentence(row: dict, unit: str, measured: str) -> str:
    """One estimate as a sentence; the interval says whether it is told apart from no effect."""
    effect, lower, upper = row["effect"], row["effect_lower"], row["effect_upper"]
    direction = "higher" if effect >= 0 else "lower"
    interval = f"95% interval {_signed(lower, unit)} to {_signed(upper, unit)}"
    text = (f"Participants' {measured} was {_amount(effect, unit)} {direction} ({interval}) than "
            "similar students who did not take part")
    if lower <= 0 <= upper:
        text += "; that is not clearly different from no effect"
    naive = row.get("naive_difference")
    if naive is not None:
        text += (f". Compared with all students, without adjusting for who takes part, the "
                 f"difference would read {_signed(naive, unit)}")
    return text + "."


def _estimate_cell(table: PublicTable, row: dict, unit: str) -> str:
    if _hidden(table, row, "participants", "effect"):
        return '<span class="suppressed">suppressed</span>'
    if row.get("effect") is None:
        return "too few to estimate"
    return (
        f"{_signed(row['effect'], unit)} ({_signed(row['effect_lower'], unit)} to {_signed(row['effect_upper'], unit)})"
    )


def _count(table: PublicTable, row: dict, column: str) -> str:
    if table.cell(row, column).suppressed:
        return '<span class="suppressed">suppressed</span>'
    return f"{row[column]:,}" if row.get(column) is not None else "no data"


def outcomes_section(tables: list[PublicTable]) -> str:
    table = _table(tables, "programme_outcome_estimates")
    if table is None:
        return '<p class="missing">Not published yet.</p>'
    table = table.latest_period()
    parts = [
        '<p class="note">Each programme\'s participants are compared with students of the same '
        "ages who did not take part, weighted to match them on age, gender, race/ethnicity, "
        "neighbourhood, the previous year's attendance and involvement with child welfare, "
        "juvenile or adult justice, homeless services or public housing (inverse-propensity weighting with "
        "regression adjustment). Points are percentage points. A 95% interval is the range the "
        "effect is likely to lie in.</p>"
    ]
    if table.caption:
        parts.append(f'<p class="note">{escape(table.caption)}</p>')
    programmes = sorted(
        {r["programme"] for r in table.rows},
        key=lambda p: (PROGRAMME_ORDER.index(p) if p in PROGRAMME_ORDER else 99, p),
    )
    for programme in programmes:
        rows = [r for r in table.rows if r["programme"] == programme]
        overall = {r["outcome"]: r for r in rows if r["dimension"] == "all"}
        parts.append(f'<h3 id="outcomes-{escape(programme)}">{escape(value_text(programme))}</h3><ul class="findings">')
        for outcome, (measured, unit) in OUTCOMES.items():
            row = overall.get(outcome)
            if row is None:
                continue
            if _hidden(table, row, "participants", "effect"):
                sentence = f"The effect on {measured} is suppressed: too few participants to publish."
            elif row.get("effect") is None:
                sentence = f"Too few participants to estimate the effect on {measured}."
            else:
                sentence = effect_sentence(row, unit, measured)
            parts.append(f"<li>{escape(sentence)}</li>")
        parts.append("</ul>")
        parts.append(_by_group(table, rows))
    return "".join(parts)


def _by_group(table: PublicTable, rows: list[dict]) -> str:
    rows = sorted(
        rows,
        key=lambda r: (
            list(OUTCOMES).index(r["outcome"]) if r["outcome"] in OUTCOMES else 99,
            DIMENSION_ORDER.index(r["dimension"]) if r["dimension"] in DIMENSION_ORDER else 99,
            natural_key(r["group_value"]),
        ),
    )
    body = "".join(
        f"<tr><td>{escape(humanise(r['outcome']))}</td><td>{escape(humanise(r['dimension']))}</td>"
        f'<td>{escape(value_text(r["group_value"]))}</td><td class="num">{_count(table, r, "participants")}</td>'
        f'<td class="num">{_count(table, r, "youth_compared")}</td>'
        f'<td class="num">{_estimate_cell(table, r, OUTCOMES.get(r["outcome"], ("", "points"))[1])}</td></tr>'
        for r in rows
    )
    return (
        '<details><summary>Effects by group (for whom the programme works)</summary><table class="data">'
        "<thead><tr><th>Outcome</th><th>Breakdown</th><th>Group</th><th>Participants</th>"
        "<th>Students compared</th><th>Effect (95% interval)</th></tr></thead>"
        f"<tbody>{body}</tbody></table></details>"
    )


def _rate(table: PublicTable, row: dict) -> float | None:
    cell = table.cell(row, "rate")
    return None if cell.suppressed or cell.value is None else float(cell.value)


def subpopulations_section(tables: list[PublicTable]) -> str:
    table = _table(tables, "headline_rates_by_subpopulation")
    if table is None:
        return '<p class="missing">Not published yet.</p>'
    # Youth served by public behavioural health are published in a table of their own, held to a
    # stricter threshold; read beside the other groups, each figure from the table that shows it.
    stricter = _table(tables, STRICTER_TABLE)
    parts = [
        '<p class="note">A young person can belong to several of these groups or none; "all youth" '
        "counts everyone measured once. Group membership counts the period measured or any earlier year.</p>"
    ]
    if stricter is not None:
        parts.append(
            '<p class="note">Youth served by public behavioural health (mental health or substance use) come '
            "from records the law protects more strictly: their figures are withheld up to a higher count "
            "than the other groups'.</p>"
        )
    for measure in sorted({r["measure"] for r in table.rows}, key=natural_key):
        rows = [r for r in table.rows if r["measure"] == measure]
        everyone = next((r for r in rows if r["subpopulation"] == ALL_YOUTH), None)
        groups = sorted(
            [(table, r) for r in rows if r["subpopulation"] != ALL_YOUTH]
            + [(stricter, r) for r in (stricter.rows if stricter is not None else [])
               if r["measure"] == measure and r["subpopulation"] != ALL_YOUTH],
            key=lambda tr: natural_key(tr[1]["subpopulation"]),
        )
        period = rows[0].get("period")
        heading = f"{value_text(measure)} ({period})" if period else value_text(measure)
        parts.append(f"<h3>{escape(heading)}</h3>")
        all_rate = _rate(table, everyone) if everyone else None
        if all_rate is not None:
            shown = [
                f"{value_text(r['subpopulation']).lower()} {_rate(t, r) * 100:.0f}%"
                for t, r in groups
                if _rate(t, r) is not None
            ]
            hidden = sum(_rate(t, r) is None for t, r in groups)
            sentence = f"All youth: {all_rate * 100:.0f}%"
            if shown:
                sentence += "; " + ", ".join(shown)
            if hidden:
                sentence += f"; {hidden} group{'s' if hidden > 1 else ''} too small to show (suppressed)"
            parts.append(f"<p>{escape(sentence)}.</p>")
        bars = [
            Bar(value_text(r["subpopulation"]), _rate(t, r), t.cell(r, "rate").suppressed)
            for t, r in ([(table, everyone)] if everyone else []) + groups
        ]
        parts.append(bar_chart(f"{value_text(measure)} by subpopulation", bars, True))
    return "".join(parts)
