"""Inline SVG charts for the findings page: horizontal bars and weekly columns.

Hand-written SVG keeps the page self-contained (no script, no CDN, no plotting library).
A suppressed value is drawn as a short hatched bar labelled "suppressed" and a missing value
as "no data": neither is ever drawn as zero.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape

from hub_assets.findings.format import format_value

BAR_COLOUR = "#2b6cb0"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    suppressed: bool


def _hatch(pattern_id: str) -> str:
    return (f'<defs><pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse"'
            f' patternTransform="rotate(45)"><rect width="6" height="6" fill="#edf2f7"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="#718096" stroke-width="2"/></pattern></defs>')


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scale_max(bars: list[Bar]) -> float:
    values = [b.value for b in bars if b.value is not None and not b.suppressed]
    return max([v for v in values if v > 0], default=1.0)


def bar_chart(title: str, bars: list[Bar], is_rate: bool = False) -> str:
    """Horizontal bars, one per category, for breakdowns (neighbourhood, age band, ...)."""
    label_w, plot_w, row_h, top = 300, 360, 22, 8
    height = top + row_h * len(bars) + 8
    width = label_w + plot_w + 110
    top_value = _scale_max(bars)
    hatch_id = f"hatch-{next(_ids)}"
    parts = [f'<svg class="chart bar-chart" role="img" aria-label="{escape(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>",
             _hatch(hatch_id)]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(f'<text class="label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                     f"{escape(_short(bar.label, 46))}</text>")
        if bar.suppressed:
            parts.append(f'<rect class="bar suppressed" x="{label_w}" y="{y + 3}" width="40" '
                         f'height="{row_h - 6}" fill="url(#{hatch_id})" stroke="#718096">'
                         f"<title>{escape(bar.label)}: suppressed</title></rect>")
            parts.append(f'<text class="value suppressed" x="{label_w + 46}" y="{y + 15}">'
                         f"suppressed</text>")
        elif bar.value is None:
            parts.append(f'<text class="value missing" x="{label_w + 4}" y="{y + 15}">no data</text>')
        else:
            w = max(1.0, plot_w * max(bar.value, 0) / top_value)
            shown = format_value(bar.value, is_rate)
            parts.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" '
                         f'height="{row_h - 6}" fill="{BAR_COLOUR}">'
                         f"<title>{escape(bar.label)}: {shown}</title></rect>")
            parts.append(f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 15}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(title: str, bars: list[Bar], is_rate: bool = False) -> str:
    """Vertical columns in order, for a series over time (weeks of summer)."""
    col_w, gap, plot_h, left, top, bottom = 44, 10, 200, 10, 24, 40
    width = left + (col_w + gap) * len(bars) + 10
    height = top + plot_h + bottom
    top_value = _scale_max(bars)
    hatch_id = f"hatch-{next(_ids)}"
    base = top + plot_h
    parts = [f'<svg class="chart column-chart" role="img" aria-label="{escape(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>",
             _hatch(hatch_id),
             f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#a0aec0"/>']
    for i, bar in enumerate(bars):
        x = left + i * (col_w + gap)
        mid = x + col_w / 2
        parts.append(f'<text class="label" x="{mid}" y="{base + 16}" text-anchor="middle">'
                     f"{escape(bar.label[:8])}</text>")
        if bar.suppressed:
            parts.append(f'<rect class="bar suppressed" x="{x}" y="{base - 30}" width="{col_w}" '
                         f'height="30" fill="url(#{hatch_id})" stroke="#718096">'
                         f"<title>{escape(bar.label)}: suppressed</title></rect>")
            parts.append(f'<text class="value suppressed" x="{mid}" y="{base - 36}" '
                         f'text-anchor="middle">suppr.</text>')
        elif bar.value is None:
            parts.append(f'<text class="value missing" x="{mid}" y="{base - 6}" '
                         f'text-anchor="middle">n/a</text>')
        else:
            h = max(1.0, plot_h * max(bar.value, 0) / top_value)
            shown = format_value(bar.value, is_rate)
            parts.append(f'<rect class="bar" x="{x}" y="{base - h:.1f}" width="{col_w}" '
                         f'height="{h:.1f}" fill="{BAR_COLOUR}">'
                         f"<title>{escape(bar.label)}: {shown}</title></rect>")
            parts.append(f'<text class="value" x="{mid}" y="{base - h - 5:.1f}" '
                         f'text-anchor="middle">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)
