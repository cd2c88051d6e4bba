"""The linkage model's charts, drawn so that they need nothing from outside the hub.

Splink's match-weight and m/u charts, a threshold chart (links, precision and recall at each
candidate threshold) and a refusals chart (links each refusal rule kept out of a person), are rendered to PNG by ``vl-convert`` (Vega and Vega-Lite compiled into
the package: no browser, no CDN) and shown in the ``linkage/model`` asset's metadata as Markdown
images with the PNG inline (``data:`` URI; the Dagster UI's Markdown allows ``data:`` image
sources). Splink's own charts are also written as HTML with the Vega scripts bundled inline, for
zooming and tooltips, again with nothing fetched.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import vl_convert

from hub_assets.linkage import evaluate
from hub_assets.linkage.settings import MATCH_THRESHOLD

SCALE = 1.0  # pixels per Vega-Lite unit: a 700-pixel-wide chart is ~200 KB of PNG


@dataclass(frozen=True)
class Chart:
    title: str
    png: Path
    html: Path | None = None

    def markdown(self) -> str:
        """The chart as a Markdown image with the PNG inline."""
        encoded = base64.b64encode(self.png.read_bytes()).decode("ascii")
        return f"**{self.title}**\n\n![{self.title}](data:image/png;base64,{encoded})\n"


def render_png(spec: dict, scale: float = SCALE) -> bytes:
    """A Vega-Lite spec as PNG bytes, rendered in-process."""
    return vl_convert.vegalite_to_png(spec, scale=scale)


def write_model_charts(linker, directory: Path, pairs: pl.DataFrame | None = None,
                       estimates: pl.DataFrame | None = None,
                       refusals: pl.DataFrame | None = None) -> dict[str, Chart]:
    """Match weights and m/u (PNG and self-contained HTML) and, when the last linkage's scored
    pairs are given, the threshold chart (PNG); when its refusals are given
    (operations.refusal_summary), the refusals chart (PNG)."""
    directory.mkdir(parents=True, exist_ok=True)
    splink_charts = {
        "match_weights": ("Match weights", linker.visualisations.match_weights_chart()),
        "m_u_parameters": ("m and u parameters", linker.visualisations.m_u_parameters_chart()),
    }
    charts = {}
    for name, (title, chart) in splink_charts.items():
        html, png = directory / f"{name}.html", directory / f"{name}.png"
        chart.save(str(html), inline=True)  # Vega scripts bundled in the file
        png.write_bytes(render_png(chart.chart_dict))
        charts[name] = Chart(title, png, html)
    if pairs is not None and pairs.height:
        png = directory / "threshold.png"
        png.write_bytes(render_png(threshold_spec(pairs, estimates)))
        charts["threshold"] = Chart("Links, precision and recall by threshold", png)
    if refusals is not None and refusals.height:
        png = directory / "refusals.png"
        png.write_bytes(render_png(refusals_spec(refusals)))
        charts["refusals"] = Chart("Links refused by each rule", png)
    return charts


def refusals_spec(summary: pl.DataFrame) -> dict:
    """Vega-Lite: links each refusal rule kept out of a person in the last full re-link and in the
    attaches since (``summary``: operations.refusal_summary), one bar per rule, rules the last
    re-link did not apply marked as such."""
    rows = [{"rule": row["rule"] + ("" if row["applied"] is not False else " (not applied)"),
             "run": run, "links": row[f"refused_{key}"]}
            for row in summary.iter_rows(named=True)
            for key, run in (("full", "last full re-link"), ("attach", "attaches since"))]
    return {
        "title": "Links refused by each rule", "width": 420, "height": 24 * max(summary.height, 1),
        "data": {"values": rows}, "mark": {"type": "bar"},
        "encoding": {"y": {"field": "rule", "type": "nominal", "sort": None, "title": None},
                     "x": {"field": "links", "type": "quantitative", "title": "links refused",
                           "stack": True},
                     "color": {"field": "run", "type": "nominal", "title": None,
                               "scale": {"domain": ["last full re-link", "attaches since"],
                                         "range": ["#2b6cb0", "#9aa5b1"]}}},
        "config": {"font": "sans-serif"}}


def threshold_spec(pairs: pl.DataFrame, estimates: pl.DataFrame | None = None,
                   current: float = MATCH_THRESHOLD) -> dict:
    """Vega-Lite: links at or above each candidate threshold (from the scored pairs) and, when
    labelled pairs give them (evaluate.estimate), precision and recall with 95% intervals."""
    links = [{"threshold": f"{edge:g}", "links": pairs.filter(pl.col("match_probability") >= edge).height,
              "current": math.isclose(edge, current)} for edge in evaluate.BAND_EDGES]
    x = {"field": "threshold", "type": "ordinal", "sort": None, "title": "match probability threshold"}
    panels = [{
        "title": "Links at or above the threshold (last linkage's scored pairs)",
        "width": 420, "height": 160, "data": {"values": links},
        "mark": {"type": "bar"},
        "encoding": {"x": x, "y": {"field": "links", "type": "quantitative", "title": "links"},
                     "color": {"field": "current", "type": "nominal", "title": "current threshold",
                               "scale": {"domain": [False, True], "range": ["#9aa5b1", "#2b6cb0"]}}},
    }]
    rows = []
    for row in (estimates.iter_rows(named=True) if estimates is not None else []):
        for measure in ("precision", "recall"):
            value = row.get(measure)
            if value is not None and not math.isnan(value):
                rows.append({"threshold": f"{row['threshold']:g}", "measure": measure, "value": value,
                             "low": row[f"{measure}_low"], "high": row[f"{measure}_high"]})
    if rows:
        color = {"field": "measure", "type": "nominal", "title": None}
        panels.append({
            "title": "Estimated from labelled pairs (95% intervals; recall among scored pairs)",
            "width": 420, "height": 160, "data": {"values": rows},
            "encoding": {"x": x, "color": color, "xOffset": {"field": "measure"}},
            "layer": [
                {"mark": {"type": "rule"}, "encoding": {
                    "y": {"field": "low", "type": "quantitative", "title": "rate", "scale": {"zero": False}},
                    "y2": {"field": "high"}}},
                {"mark": {"type": "point", "filled": True}, "encoding": {
                    "y": {"field": "value", "type": "quantitative"}}},
            ],
        })
    # Each panel keeps its own colours: concatenated views share colour scales by default.
    return {"vconcat": panels, "resolve": {"scale": {"color": "independent"}},
            "config": {"font": "sans-serif"}}
