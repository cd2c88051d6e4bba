"""Assembling the findings report: one section per use case, Summer Engagement in depth.

The Summer Engagement Ecosystem gets its story in order: weekly participation, the rate by
neighbourhood, participation by age, gender and race/ethnicity, and the gaps. Every other use
case shows its headline figures and a chart per table. Whatever is not published yet is named
as such. The release step renders the page from the release it is about to switch in, with the
plain-words notes on what a shown figure means (``disclosure.release.plain_words``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from hub_assets.findings.charts import Bar, bar_chart, column_chart
from hub_assets.findings.format import format_value, humanise, value_text
from hub_assets.findings.labels import natural_key
from hub_assets.findings.outcomes import outcomes_section, subpopulations_section
from hub_assets.findings.tables import LONG_FORMAT_KEYS, RANK, PublicTable, load_public_tables

USE_CASES = {
    "summer_engagement": "Summer Engagement Ecosystem",
    "student_homelessness": "Students experiencing homelessness or housing insecurity",
    "crossover_youth": "Crossover youth (foster care and juvenile services)",
    "opportunity_youth": "Opportunity youth (16–24, neither in school nor working)",
    "young_parents": "Young parents and their children's early-childhood services",
    "programme_outcomes": "Are programmes benefitting children as intended?",
    "subpopulations": "Foster, homeless, public-housing and justice-involved youth against all youth",
}
_SMALL_TABLE_ROWS = 12
_MARGINS = {"total"}  # margin rows, any case
_ALL = "All"  # a mart's own distinct-count row over overlapping groups (``disclosure.margins.ALL``)
_MAX_GAPS = 15


def _has_dim(table: PublicTable, *words: str) -> bool:
    names = [d.lower() for d in table.dimensions] + [table.name.lower().split(" by ")[-1]]
    return any(word in name for name in names for word in words)


# (key, heading, which tables belong). Tables are claimed by the first topic that matches.
SUMMER_TOPICS: list[tuple[str, str, Callable[[PublicTable], bool]]] = [
    ("gaps", "The gaps: where participation lags", lambda t: "gap" in t.name.lower()),
    ("weekly", "Weekly participation across the summer", lambda t: _has_dim(t, "week")),
    ("neighbourhood", "Participation rate by neighbourhood",
     lambda t: _has_dim(t, "neighbourhood", "neighborhood", "csa")),
    ("age", "Participation by age", lambda t: _has_dim(t, "age")),
    ("gender", "Participation by gender", lambda t: _has_dim(t, "sex", "gender")),
    ("race", "Participation by race/ethnicity", lambda t: _has_dim(t, "race", "ethnic")),
]
SUMMER_ORDER = ["weekly", "neighbourhood", "age", "gender", "race", "gaps"]

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1000px;
color:#1a202c;padding:0 1rem}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #2b6cb0;padding-bottom:.2rem;margin-top:2.5rem}
.meta,.note{color:#4a5568;font-size:.9rem} .missing{color:#a0aec0;font-style:italic}
.figures{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.figure{border:1px solid #cbd5e0;border-radius:6px;padding:.7rem 1rem;min-width:150px}
.figure .number{font-size:1.6rem;font-weight:600} .figure .caption{font-size:.85rem;color:#4a5568}
.chart{display:block;margin:.6rem 0;font-size:12px} .chart text{fill:#2d3748}
.chart text.suppressed,.suppressed{color:#718096;fill:#718096;font-style:italic}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} th,td{border:1px solid #e2e8f0;
padding:.2rem .5rem;text-align:left} td.num{text-align:right} details{margin:.4rem 0 1rem}
.legend-swatch{display:inline-block;width:28px;height:12px;vertical-align:middle;
background:repeating-linear-gradient(45deg,#edf2f7 0 3px,#718096 3px 5px);border:1px solid #718096}
"""


def _cell_html(table: PublicTable, row: dict, column: str) -> str:
    cell = table.cell(row, column)
    if cell.suppressed:
        return '<td class="num"><span class="suppressed">suppressed</span></td>'
    if column in table.measures:
        return f'<td class="num">{escape(format_value(cell.value, column in table.rates))}</td>'
    return f"<td>{escape(_label(cell.value, column, dates=False))}</td>"


def data_table(table: PublicTable, open_: bool) -> str:
    columns = table.dimensions + table.measures
    head = "".join(f"<th>{escape(humanise(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell_html(table, r, c) for c in columns) + "</tr>"
                   for r in _natural(table.rows, table.dimensions))
    return (f'<details{" open" if open_ else ""}><summary>Table: {escape(title(table.name))}'
            f' ({len(table.rows)} rows, <code>{escape(table.use_case)}/{escape(table.path.name)}'
            f'</code>)</summary><table class="data"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></details>")


def headline_figures(table: PublicTable) -> str:
    cards = []
    for row in table.rows[:1]:
        for measure in table.measures:
            cell = table.cell(row, measure)
            number = ('<span class="suppressed">suppressed</span>' if cell.suppressed
                      else escape(format_value(cell.value, measure in table.rates)))
            cards.append(f'<div class="figure"><div class="number">{number}</div>'
                         f'<div class="caption">{escape(humanise(measure))}</div></div>')
    return f'<div class="figures">{"".join(cards)}</div>'


def _chart_rows(table: PublicTable, dims: list[str]) -> list[dict]:
    """Rows worth a bar: not the ``Total`` margins or ``All`` rows (they would dwarf the rest)."""
    return [r for r in table.rows
            if not any(str(r.get(d, "")).lower() in _MARGINS or r.get(d) == _ALL for d in dims)]


def _gap_rows(table: PublicTable, rows: list[dict], measure: str) -> tuple[list[dict], str]:
    """The gaps worth showing: the ranked rows in rank order when the table ranks them,
    otherwise the groups that lag (a positive shortfall), largest first. Suppressed groups
    cannot be ranked; the note says how many there are rather than hiding them silently."""
    rank = next((d for d in table.dimensions if RANK.search(d.lower())), None)
    if rank:
        return sorted((r for r in rows if r.get(rank) is not None), key=lambda r: r[rank]), ""
    suppressed = sum(table.cell(r, measure).suppressed for r in rows)
    lagging = [r for r in rows if not table.cell(r, measure).suppressed
               and isinstance(r.get(measure), (int, float)) and r[measure] > 0]
    lagging.sort(key=lambda r: -r[measure])
    note = (f"The {min(len(lagging), _MAX_GAPS)} largest of {len(lagging)} groups that lag the "
            f"city-wide rate. {suppressed} groups are too small to show (suppressed).")
    return lagging[:_MAX_GAPS], note


def _natural(rows: list[dict], dims: list[str]) -> list[dict]:
    """Bands in numeric order (5-10, 11-13, 14-15 ...), week 2 before week 10, words after
    numbers, and the ``Total`` / ``All`` rows last."""
    def key(row: dict) -> tuple:
        return tuple((str(row.get(d)).lower() in _MARGINS or row.get(d) == _ALL, natural_key(row.get(d)))
                     for d in dims)
    return sorted(rows, key=key)


def title(name: str) -> str:
    """A table name in words: "crossover youth by age_band_at_first_contact" -> "... by age at first contact"."""
    first, *rest = name.split(" by ")
    return " by ".join([humanise(first), *(humanise(part).lower() for part in rest)])


def _label(value: object, dim: str = "", dates: bool = True) -> str:
    if dim.lower() in LONG_FORMAT_KEYS and isinstance(value, str):
        return humanise(value)  # the name of a breakdown: "age at first contact"
    text = value_text(value)
    return text[5:] if dates and len(text) == 10 and text[4] == "-" else text  # dates as MM-DD


def _bars(table: PublicTable, rows: list[dict], dims: list[str], measure: str,
          sort_desc: bool) -> list[Bar]:
    bars = []
    for row in rows:
        cell = table.cell(row, measure)
        value = float(cell.value) if isinstance(cell.value, (int, float)) else None
        label = ": ".join(_label(row.get(d), d) for d in dims)
        bars.append(Bar(label, value, cell.suppressed))
    if sort_desc:
        bars.sort(key=lambda b: (b.suppressed, b.value is None, -(b.value or 0)))
    return bars


def _in_time_order(rows: list[dict], dims: list[str]) -> list[dict]:
    """Weeks in calendar order, whatever order the table came in. Week columns arrive as text
    when the table carries a ``Total`` row, so "10" must still sort after "9"."""
    return _natural(rows, dims)


def _chart_measures(table: PublicTable, topic: str | None, small: bool) -> list[str]:
    if topic == "gaps":
        short = [m for m in table.measures if "short" in m]
        return short[:1] or [m for m in table.rates if "gap" in m][:1] or table.measures[:1]
    rates = [r for r in table.rates if "gap" not in r]
    # The participants count tells the story; a denominator (enrolled youth) is context.
    counts = sorted(table.counts, key=lambda c: "particip" not in c)
    return rates[:1] + (counts[:1] if small or not rates else [])


def table_figures(table: PublicTable, topic: str | None = None) -> str:
    """Headline cards for one-row tables, charts along the dimensions that vary, the data."""
    table = table.latest_period()
    caption = f'<p class="note">{escape(table.caption)}</p>' if table.caption else ""
    if not table.dimensions or len(table.rows) == 1:
        return caption + headline_figures(table) + data_table(table, open_=False)
    parts = [caption]
    dims = table.varying_dimensions
    rows = _chart_rows(table, dims)
    if dims and rows and len(dims) <= 2 and len(rows) <= 80:
        small = len(rows) <= _SMALL_TABLE_ROWS
        over_time = any("week" in d.lower() for d in dims) or topic == "weekly"
        rows = _in_time_order(rows, dims) if over_time else _natural(rows, dims)
        for measure in _chart_measures(table, topic, small):
            shown, note = _gap_rows(table, rows, measure) if topic == "gaps" else (rows, "")
            # A split long table is named "<table> by <breakdown>": say "by age band", not "by group".
            along = table.name.split(" by ")[-1] if " by " in table.name else " and ".join(dims)
            heading = f"{humanise(measure)} by {humanise(along).lower()}"
            sort_desc = not over_time and topic != "gaps" and not small
            bars = _bars(table, shown, dims, measure, sort_desc)
            draw = column_chart if over_time else bar_chart
            parts.append(f"<h4>{escape(heading)}</h4>" + draw(heading, bars, measure in table.rates))
            if note:
                parts.append(f'<p class="note">{escape(note)}</p>')
    open_ = topic == "gaps" or len(table.rows) <= _SMALL_TABLE_ROWS
    parts.append(data_table(table, open_=open_))
    return "".join(parts)


def summer_section(tables: list[PublicTable]) -> str:
    tables = [t.latest_period() for t in tables]
    headlines = [t for t in tables if not t.dimensions or len(t.rows) == 1]
    claimed: dict[str, list[PublicTable]] = {key: [] for key, _, _ in SUMMER_TOPICS}
    others = []
    headline_ids = {id(t) for t in headlines}
    for table in [part for t in tables if id(t) not in headline_ids for part in
                  ([t] if "gap" in t.name.lower() else t.split_long_format())]:
        key = next((k for k, _, matches in SUMMER_TOPICS if matches(table)), None)
        (claimed[key] if key else others).append(table)
    headings = {key: heading for key, heading, _ in SUMMER_TOPICS}
    parts = [table_figures(t) for t in headlines]
    for key in SUMMER_ORDER:
        parts.append(f'<h3 id="summer-{key}">{escape(headings[key])}</h3>')
        if not claimed[key]:
            parts.append('<p class="missing">Not published yet.</p>')
        parts += [table_figures(t, key) for t in claimed[key]]
    if others:
        parts.append("<h3>More summer figures</h3>")
        parts += [f"<h4>{escape(title(t.name))}</h4>" + table_figures(t) for t in others]
    return "".join(parts)


def use_case_section(tables: list[PublicTable]) -> str:
    ordered = sorted(tables, key=lambda t: (bool(t.dimensions) and len(t.rows) > 1, t.name))
    return "".join(f"<h3>{escape(title(t.name))}</h3>" + table_figures(t) for t in ordered)


def render_findings_page(public_dir: Path, generated_at: datetime | None = None,
                         notes: list[str] | None = None, release_id: str | None = None) -> str:
    """The page for the tables under ``public_dir``; ``notes`` say in plain words when a shown
    figure is not the plain count (default: the suppression note alone)."""
    tables = load_public_tables(public_dir)
    generated_at = generated_at or datetime.now(UTC)
    sections = []
    for use_case in list(USE_CASES) + sorted(set(tables) - set(USE_CASES)):
        title = USE_CASES.get(use_case, humanise(use_case))
        found = tables.get(use_case, [])
        if not found:
            body = '<p class="missing">Not published yet.</p>'
        elif use_case == "summer_engagement":
            body = summer_section(found)
        elif use_case == "programme_outcomes":
            body = outcomes_section(found)
        elif use_case == "subpopulations":
            body = subpopulations_section(found) + "".join(data_table(t, open_=False) for t in found)
        else:
            body = use_case_section(found)
        sections.append(f'<section id="{escape(use_case)}"><h2>{escape(title)}</h2>{body}</section>')
    n_tables = sum(len(v) for v in tables.values())
    release = f" (release {escape(release_id)})" if release_id else ""
    reading = ('<section id="reading"><h2>How to read these figures</h2><ul>'
               + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul></section>") if notes else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>Youth Data Hub: findings</title><style>{STYLE}</style></head><body>"
        "<h1>Youth Data Hub: findings</h1>"
        f'<p class="meta">Generated {generated_at.isoformat(timespec="minutes")} from '
        f"{n_tables} public tables{release}. Every number on this page passed disclosure control.</p>"
        '<p class="note"><span class="legend-swatch"></span> <span class="suppressed">suppressed'
        "</span>: a small count (or a rate built on one) withheld to protect privacy. It is "
        "not zero.</p>"
        + reading
        + "".join(sections) + "</body></html>"
    )


def write_findings_page(public_dir: Path, out: Path | None = None, notes: list[str] | None = None,
                        release_id: str | None = None) -> Path:
    """Write ``<public>/findings/index.html`` and return its path."""
    out = out or public_dir / "findings" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_findings_page(public_dir, notes=notes, release_id=release_id), encoding="utf-8")
    return out
