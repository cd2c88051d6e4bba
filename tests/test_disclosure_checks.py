"""Disclosure checks: each fails on a table that would disclose someone and passes on a safe one,
as functions and as the blocking checks of a real public asset (real Dagster, real DuckDB)."""

import json

import dagster as dg
import duckdb
import polars as pl
import pytest

from hub_assets.defs.disclosure.assets import FINDINGS_KEY
from hub_assets.defs.disclosure.definitions import public_definitions
from hub_assets.defs.resources import HubResource
from hub_assets.disclosure.margins import PublishSpec, add_margins, validate_cells
from hub_assets.disclosure.suppression import publish, suppress
from hub_assets.disclosure.table_checks import recoverable_suppressed, small_counts_visible, too_finely_grouped

SPEC = PublishSpec.from_meta({"dimensions": ["neighbourhood", "sex"], "counts": ["n"]}, "test")
CELLS = pl.DataFrame({"neighbourhood": ["A", "A", "B", "B", "C", "C"], "sex": ["F", "M"] * 3,
                      "n": [3, 20, 30, 40, 50, 60]})


def _primary_only(cells: pl.DataFrame, spec: PublishSpec, threshold: int = 10) -> pl.DataFrame:
    """What a naive publisher would release: small cells hidden, nothing else."""
    table = add_margins(validate_cells(cells, spec, "test"), spec)
    hidden = (pl.col("n") >= 1) & (pl.col("n") <= threshold)
    return table.with_columns(pl.when(hidden).then(None).otherwise(pl.col("n")).alias("n"),
                              hidden.alias("n_suppressed"))


def test_visible_small_count_fails_and_published_table_passes():
    raw = suppress(add_margins(validate_cells(CELLS, SPEC, "t"), SPEC), SPEC, 0)  # threshold 0: nothing hidden
    problems = small_counts_visible(raw, SPEC, 10)
    assert problems and "n=3 is visible at neighbourhood=A, sex=F" in problems[0]
    assert small_counts_visible(publish(CELLS, SPEC, 10, "t"), SPEC, 10) == []


def test_primary_only_suppression_is_recovered_from_the_margins():
    naive = _primary_only(CELLS, SPEC)
    problems = recoverable_suppressed(naive, SPEC)
    assert problems == ["suppressed n at neighbourhood=A, sex=F can be recovered from the margins (it is 3)"]
    assert recoverable_suppressed(publish(CELLS, SPEC, 10, "t"), SPEC) == []


def test_two_hidden_ones_are_recovered_by_interval_reasoning():
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood"], "counts": ["n"]}, "test")
    naive = _primary_only(pl.DataFrame({"neighbourhood": ["A", "B", "C"], "n": [1, 1, 40]}), spec)
    assert len(recoverable_suppressed(naive, spec)) == 2  # total - 40 = 2 and each is >= 1


def test_visible_rate_on_a_suppressed_numerator_fails():
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood"], "counts": ["p", "e"], "totals": [],
                                  "rates": {"r": ["p", "e"]}}, "test")
    table = publish(pl.DataFrame({"neighbourhood": ["A", "B"], "p": [4, 20], "e": [40, 40], "r": [0.1, 0.5]}),
                    spec, 10, "t")
    assert recoverable_suppressed(table, spec) == []
    leaked = table.with_columns(pl.lit(0.1).alias("r"), pl.lit(False).alias("r_suppressed"))
    assert recoverable_suppressed(leaked, spec) == ["rate r is visible at neighbourhood=A while p or e is suppressed"]


def test_a_small_difference_of_a_part_beside_its_whole_fails_until_published():
    spec = PublishSpec.from_meta({"dimensions": ["group_value"], "counts": ["child_welfare_youth", "crossover_youth"],
                                  "rates": {"share": ["crossover_youth", "child_welfare_youth"]}}, "test")
    cells = pl.DataFrame({"group_value": ["A", "B", "C"], "child_welfare_youth": [19, 40, 50],
                          "crossover_youth": [16, 20, 22], "share": [0.842, 0.5, 0.44]})
    raw = suppress(add_margins(validate_cells(cells, spec, "t"), spec), spec, 0)  # what was released before
    assert small_counts_visible(raw, spec, 10) == []  # 19 and 16 both pass the threshold...
    assert recoverable_suppressed(raw, spec, 10) == [  # ...but 19 - 16 = 3 does not
        "child_welfare_youth - crossover_youth at group_value=A is 3 (threshold 10), readable by subtraction"]
    assert recoverable_suppressed(publish(cells, spec, 10, "t"), spec, 10) == []


def test_too_fine_a_grouping_fails():
    spec = PublishSpec.from_meta({"dimensions": ["neighbourhood", "week", "age_band", "sex", "race_ethnicity"],
                                  "counts": ["n"], "totals": []}, "test")
    cells = pl.DataFrame({"neighbourhood": ["A", "A"], "week": [1, 2], "age_band": ["14-17"] * 2,
                          "sex": ["F"] * 2, "race_ethnicity": ["BLACK"] * 2, "n": [2, 40]})
    raw = suppress(validate_cells(cells, spec, "t"), spec, 0)
    problems = too_finely_grouped(raw, spec, 10)
    assert problems == ["neighbourhood=A, week=1, age_band=14-17, sex=F, race_ethnicity=BLACK describes 2 youth "
                        "(n), fewer than 11"]
    assert too_finely_grouped(publish(cells, spec, 10, "t"), spec, 10) == []


# --- the public asset and its blocking checks, end to end --------------------------------------

MART = "summer_participation_by_neighbourhood"


def _manifest(tmp_path) -> dict:
    manifest = {
        "nodes": {f"model.hub.{MART}": {
            "resource_type": "model", "name": MART, "schema": "marts", "alias": MART,
            "fqn": ["hub", "marts", "summer_engagement", MART], "description": "Participation by CSA.",
            "columns": {"neighbourhood": {"description": "Community statistical area"}},
            "depends_on": {"nodes": ["source.hub.raw.rec_parks", "source.hub.spine.person_spine"]},
            "config": {"meta": {"use_case": "summer_engagement", "publish": {
                "dimensions": ["neighbourhood"], "exclusive": ["neighbourhood"],
                "counts": ["participants", "enrolled_youth"],
                "rates": {"participation_rate": ["participants", "enrolled_youth"]}}}}}},
        "sources": {"source.hub.raw.rec_parks": {"name": "rec_parks", "source_name": "raw"},
                    "source.hub.spine.person_spine": {"name": "person_spine", "source_name": "spine"}},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_DBT_MANIFEST", str(tmp_path / "manifest.json"))
    monkeypatch.setenv("HUB_USER", "tester")
    monkeypatch.delenv("HUB_MIN_CELL_SIZE", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.{MART} as select * from (values "
                    "('A', 4, 200, 0.02), ('B', 25, 200, 0.125), ('C', 12, 200, 0.06), ('D', 90, 200, 0.45)) "
                    "t(neighbourhood, participants, enrolled_youth, participation_rate)")
    return HubResource(data_dir=str(data))


def _defs(manifest, hub) -> dg.Definitions:
    mart_key, key = dg.AssetKey(["marts", MART]), dg.AssetKey(["public", MART])
    jobs = [dg.define_asset_job("release", selection=dg.AssetSelection.assets(key, FINDINGS_KEY)),  # a release is whole
            dg.define_asset_job("checks", selection=dg.AssetSelection.checks_for_assets(key))]
    return dg.Definitions.merge(public_definitions(manifest, key_of=lambda m, uid: mart_key),
                                dg.Definitions(assets=[dg.AssetSpec(mart_key)], jobs=jobs, resources={"hub": hub}))


def _run(defs, instance, checks_only=False):
    job = defs.resolve_job_def("checks" if checks_only else "release")
    return job.execute_in_process(instance=instance, raise_on_error=False)


def _checks(result) -> dict[str, bool]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}


def test_public_asset_releases_a_safe_table_and_its_checks_pass(tmp_path, hub):
    defs = _defs(_manifest(tmp_path), hub)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(defs, instance)
    assert result.success
    assert _checks(result) == {"no_small_counts_visible": True, "no_recoverable_suppressed_cells": True,
                               "no_rate_on_a_suppressed_count": True, "not_too_finely_grouped": True,
                               "governance_agreement": True, "complete_release": True}
    folder = hub.paths.public / "summer_engagement"
    published = pl.read_parquet(folder / f"{MART}.parquet")
    assert published.filter(pl.col("participants_suppressed"))["neighbourhood"].to_list() == ["A", "C"]
    assert pl.read_csv(folder / f"{MART}.csv").height == 5
    assert "Community statistical area" in (folder / "data_dictionary.md").read_text()


def test_checks_fail_when_the_published_table_is_tampered_with(tmp_path, hub, exact_publication):
    defs = _defs(_manifest(tmp_path), hub)
    with dg.DagsterInstance.ephemeral() as instance:
        assert _run(defs, instance).success
        with hub.warehouse() as con:  # someone "un-suppresses" the second cell by hand
            con.execute(f"update public.{MART} set participants = 12, participants_suppressed = false "
                        "where neighbourhood = 'C'")
        result = _run(defs, instance, checks_only=True)
    checks = _checks(result)
    assert checks["no_recoverable_suppressed_cells"] is False  # A = total - B - C - D
    assert checks["no_small_counts_visible"] is True  # 12 is above the threshold


def test_threshold_env_makes_the_small_count_check_fail_on_an_old_release(tmp_path, hub, monkeypatch):
    defs = _defs(_manifest(tmp_path), hub)
    with dg.DagsterInstance.ephemeral() as instance:
        assert _run(defs, instance).success
        monkeypatch.setenv("HUB_MIN_CELL_SIZE", "30")  # 25 is now a small count, still visible
        checks = _checks(_run(defs, instance, checks_only=True))
    assert checks["no_small_counts_visible"] is False and checks["not_too_finely_grouped"] is False


@pytest.fixture
def exact_publication(tmp_path, monkeypatch):
    """Counts published exactly (``disclosure.rounding_base: 1``), as a reader of them would see."""
    from hub_assets.settings import GOVERNANCE_FILE

    path = tmp_path / "governance.yaml"
    path.write_text(GOVERNANCE_FILE.read_text().replace("rounding_base: 5", "rounding_base: 1"))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(path))


def test_checks_fail_when_a_part_is_shown_beside_its_whole_with_a_small_difference(tmp_path, hub, exact_publication):
    defs = _defs(_manifest(tmp_path), hub)
    with hub.warehouse() as con:  # B: 25 participants of 30 enrolled youth; 5 did not take part
        con.execute(
            f"update marts.{MART} set enrolled_youth = 30, participation_rate = 0.8333 where neighbourhood = 'B'"
        )
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(defs, instance)
        assert result.success and all(_checks(result).values())
        with hub.warehouse() as con:
            b = con.execute(
                f"select participants, enrolled_youth from public.{MART} where neighbourhood = 'B'"
            ).fetchone()
            assert None in b  # one of 25 and 30 is hidden
            con.execute(
                f"update public.{MART} set participants = 25, participants_suppressed = false, "
                "enrolled_youth = 30, enrolled_youth_suppressed = false where neighbourhood = 'B'"
            )
            tampered = pl.from_arrow(con.sql(f"select * from public.{MART}").to_arrow_table())
        checks = _checks(_run(defs, instance, checks_only=True))
    spec = PublishSpec.from_meta(_manifest(tmp_path)["nodes"][f"model.hub.{MART}"]["config"]["meta"]["publish"], "t")
    assert recoverable_suppressed(tampered, spec, 10) == [
        "enrolled_youth - participants at neighbourhood=B is 5 (threshold 10), readable by subtraction"
    ]
    assert checks["no_recoverable_suppressed_cells"] is False  # 30 - 25 = 5 youth, by subtraction
    assert checks["no_small_counts_visible"] is True


def test_the_release_and_its_checks_loop_over_one_registry_of_rules(tmp_path, hub):
    from hub_assets.dbt.manifest import PublishedMart
    from hub_assets.disclosure.release_audit import ReleaseAudit
    from hub_assets.disclosure.rules import AUDIT_RULE, DISCLOSURE_RULES, Release, release_problems

    defs = _defs(_manifest(tmp_path), hub)
    checked = {spec.name for spec in defs.resolve_asset_graph().asset_check_keys
               if spec.asset_key == dg.AssetKey(["public", MART])}
    assert checked == {rule.name for rule in DISCLOSURE_RULES} | {"governance_agreement"}

    # A table breaking a per-table rule, and an audit that solved one of its cells: the release
    # refuses both, each problem naming its table.
    mart = PublishedMart("model.hub.t", "t", "u", "marts", "t", SPEC, "", {})
    raw = suppress(add_margins(validate_cells(CELLS, SPEC, "t"), SPEC), SPEC, 0)
    audit = ReleaseAudit(threshold=10, protection_width=2)
    audit.fail(("t", 0, "n"), "n at row 0 is exactly 3")
    problems = release_problems(Release({"t": (mart, raw)}, {"t": 10}, 1, audit_of=lambda: audit))
    assert "t: n at row 0 is exactly 3" in problems
    assert any(p.startswith("t: n=3 is visible at neighbourhood=A, sex=F") for p in problems)
    assert AUDIT_RULE in {rule.name for rule in DISCLOSURE_RULES}
