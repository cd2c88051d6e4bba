"""The model's charts render with nothing fetched from outside, and show in the linkage/model
asset's metadata after a real Dagster materialisation."""

import base64
import re
import socket

import dagster as dg
import duckdb
import polars as pl
import pytest

from hub_assets.defs.linkage.assets import linkage_model, person_keys
from hub_assets.linkage.charts import render_png, threshold_spec
from hub_assets.linkage.operations import LinkagePaths
from linkage_people import people, write_identity_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open an internet connection fails the test."""
    def refuse(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address, *args, **kwargs)

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_the_threshold_chart_renders_to_png_without_the_network(no_network):
    pairs = pl.DataFrame({"unique_id_l": list("abcd"), "unique_id_r": list("efgh"),
                          "match_weight": [1.0] * 4, "match_probability": [0.6, 0.85, 0.995, 0.99999]})
    estimates = pl.DataFrame({"threshold": [0.8, 0.99], "precision": [0.97, 0.99], "precision_low": [0.9, 0.95],
                              "precision_high": [0.99, 1.0], "recall": [0.99, float("nan")],
                              "recall_low": [0.95, float("nan")], "recall_high": [1.0, float("nan")]})
    spec = threshold_spec(pairs, estimates)
    assert [row["links"] for row in spec["vconcat"][0]["data"]["values"]][:2] == [4, 3]
    assert len(spec["vconcat"]) == 2 and len(spec["vconcat"][1]["data"]["values"]) == 3  # NaN left out
    width, height = _png_size(render_png(spec))
    assert width > 300 and height > 300
    assert len(threshold_spec(pairs)["vconcat"]) == 1  # no labels, no estimate panel


def test_model_asset_metadata_shows_its_charts_as_inline_images(hub, instance, no_network):
    records, _ = people(150, seed=5)
    write_identity_db(hub.paths.identity_db, records)
    result = dg.materialize([linkage_model], resources={"hub": hub}, instance=instance)
    assert result.success
    meta = result.asset_materializations_for_node("linkage__model")[0].metadata
    for name in ("match_weights_chart", "m_u_parameters_chart"):
        markdown = meta[name].value
        encoded = re.search(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1)
        width, height = _png_size(base64.b64decode(encoded))
        assert width > 300 and height > 200
    where = LinkagePaths.of(hub.paths)
    html = (where.reports / "match_weights.html").read_text()
    assert "vegaEmbed" in html and not re.search(r"<script[^>]+src=", html)  # scripts inline
    assert (where.reports / "m_u_parameters.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "threshold_chart" not in meta  # no linkage has run yet: no scored pairs to chart

    assert dg.materialize([linkage_model, person_keys], selection=["linkage/person_keys"],
                          resources={"hub": hub}, instance=instance).success
    again = dg.materialize([linkage_model], resources={"hub": hub}, instance=instance)
    meta = again.asset_materializations_for_node("linkage__model")[0].metadata
    assert "data:image/png;base64," in meta["threshold_chart"].value


def test_model_metadata_shows_the_links_each_refusal_rule_refused_in_the_last_linkage(hub, instance, no_network):
    records, _ = people(150, seed=5)  # twins: one surname, DOB and address, two first names
    write_identity_db(hub.paths.identity_db, records)
    assert dg.materialize([linkage_model, person_keys], selection=["linkage/person_keys"],
                          resources={"hub": hub}, instance=instance).success
    with duckdb.connect(str(hub.paths.identity_db), read_only=True) as con:
        stored = dict(con.sql("select rule, count(*) from refused_links group by rule").fetchall())
        applied = dict(con.sql("select rule, applied from refusal_rules").fetchall())
    assert stored.get("first_name", 0) > 0  # the twins' links, refused

    result = dg.materialize([linkage_model], resources={"hub": hub}, instance=instance)
    meta = result.asset_materializations_for_node("linkage__model")[0].metadata
    shown = meta["refusals"].value
    assert {rule: row["refused_full"] for rule, row in shown.items() if row["refused_full"]} == stored
    assert {rule: row["applied"] for rule, row in shown.items()} == applied
    assert meta["refused_links"].value == sum(stored.values())
    table = meta["refusal_rules"].value
    assert "| first_name | auto | yes |" in table
    encoded = re.search(r"\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta["refusals_chart"].value).group(1)
    width, height = _png_size(base64.b64decode(encoded))
    assert width > 300 and height > 100
