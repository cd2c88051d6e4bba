"""``hub run`` on the fixture city builds every zone, and a second run changes nothing."""

from __future__ import annotations

import json

import duckdb
import pytest

from hub_assets.governance.agreements import load_governance
from hub_assets.sources.declaration import load_agencies

from .conftest import run_hub_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]

# Every use case governance.yaml has an agreement for: each must be built and published.
USE_CASES = tuple(sorted(load_governance().agreements))


def test_hub_run_on_the_fixture_city_succeeds(built_hub):
    assert built_hub.returncode == 0, built_hub.output[-4000:]
    assert "FAILED" not in built_hub.output


def test_every_agency_lands_in_the_warehouse_and_nothing_is_lost(built_hub):
    con = duckdb.connect(str(built_hub.paths.identity_db), read_only=True)
    drops = con.execute("select agency, sum(rows_received), sum(rows_accepted), sum(rows_quarantined) "
                        "from drops where status = 'accepted' group by agency").fetchall()
    con.close()
    assert {a for a, *_ in drops} == {s.name for s in load_agencies()}
    for agency, received, accepted, quarantined in drops:
        assert received == accepted + quarantined, agency
    wh = duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True)
    for agency, _, accepted, _ in drops:
        assert wh.execute(f"select count(*) from raw.{agency}").fetchone()[0] == accepted
    wh.close()


def test_spine_and_every_use_case_are_built_and_published(built_hub):
    wh = duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True)
    spine = wh.execute("select count(*) from spine.person_spine").fetchone()[0]
    public_tables = {t for (t,) in wh.execute(
        "select table_name from information_schema.tables where table_schema = 'public'").fetchall()}
    wh.close()
    assert spine > 1000
    published = {p.parent.name for p in built_hub.paths.public.glob("*/*.parquet")}
    assert set(USE_CASES) <= published, published
    assert public_tables, "no public tables in the warehouse"
    assert (built_hub.paths.public / "findings" / "index.html").exists()


def test_the_first_run_shows_every_use_case_on_the_page_from_one_whole_release(built_hub):
    public = built_hub.paths.public
    record = json.loads(((public / "current").resolve() / "release.json").read_text())
    page = (public / "findings" / "index.html").read_text()
    assert f"release {record['release_id']}" in page
    assert len(record["tables"]) >= 14 and f"from {len(record['tables'])} public tables" in page
    assert {t["use_case"] for t in record["tables"].values()} == set(USE_CASES)
    assert "Not published yet" not in page  # every use case, and every summer topic


def test_a_second_run_with_no_new_drops_changes_no_rows(built_hub):
    def counts():
        con = duckdb.connect(str(built_hub.paths.warehouse_db), read_only=True)
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('raw', 'spine')").fetchall()
        out = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}
        con.close()
        return out

    model = built_hub.paths.root / "linkage" / "model.json"
    before, model_before = counts(), model.read_bytes()
    again = run_hub_cli(built_hub.paths.root)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "0 new drop(s)" in again.stdout
    assert counts() == before
    # The model is retrained only when asked (weekly schedule), not by every run.
    assert "linkage: 1 asset(s)" in again.stdout
    assert model.read_bytes() == model_before
