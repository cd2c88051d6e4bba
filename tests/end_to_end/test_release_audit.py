"""The fixture city's public release, attacked with every public table at once (and the release
before it, where ``hub run`` kept one): nothing suppressed can be recovered, and protecting the
same marts again gives the same tables byte for byte."""

from __future__ import annotations

import io

import duckdb
import polars as pl
import pytest

from hub_assets.dbt.manifest import load_manifest, published_marts
from hub_assets.disclosure.protect import audit_release, protect_release
from hub_assets.disclosure.release import load_release_before_current

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]
THRESHOLD = 10


@pytest.fixture(scope="module")
def marts(built_hub):
    assert built_hub.returncode == 0, built_hub.output[-4000:]
    return published_marts(load_manifest())


def test_no_suppressed_cell_of_the_fixture_city_can_be_recovered_from_all_public_tables(built_hub, marts):
    public = built_hub.paths.public
    published = {m.name: (m, pl.read_parquet(public / m.use_case / f"{m.name}.parquet")) for m in marts}
    previous = {n: (published[n][0], t) for n, t in load_release_before_current(public).items() if n in published}
    audit = audit_release(published, previous, THRESHOLD)
    assert audit.ok, audit.failures[:10]
    figures = audit.metadata()
    assert figures["audit_tables"] == len(marts) >= 14
    assert figures["audit_suppressed_cells"] > 500 and figures["audit_exactly_determined"] == 0
    assert figures["audit_narrower_than_protection_width"] == 0


def test_protecting_the_fixture_city_twice_gives_the_same_bytes(built_hub, marts):
    con = duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True)
    cells = [(m, con.sql(f'select * from "{m.schema}"."{m.relation}"').pl()) for m in marts
             if m.use_case == "summer_engagement"]
    con.close()

    def csv_bytes(tables):
        out = {}
        for name, table in tables.items():
            buffer = io.BytesIO()
            table.write_csv(buffer)
            out[name] = buffer.getvalue()
        return out

    first = csv_bytes(protect_release(cells, THRESHOLD, {}))
    shuffled = [(m, c.sample(fraction=1.0, shuffle=True, seed=7)) for m, c in reversed(cells)]
    assert csv_bytes(protect_release(shuffled, THRESHOLD, {})) == first
