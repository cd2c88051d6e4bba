"""A public release is complete or it does not happen: every public table, the data dictionaries
and the findings page come from one release that passed every check, switched in together; a
failed release changes nothing public; earlier releases stay readable. And the publisher sums only
dimensions a mart declares exclusive."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from hub_assets.dbt.manifest import published_marts
from hub_assets.defs.disclosure import assets as release_step
from hub_assets.defs.disclosure.assets import RELEASE_CHECK
from hub_assets.defs.disclosure.definitions import public_definitions
from hub_assets.defs.resources import HubResource
from hub_assets.disclosure.margins import ALL, TOTAL, PublishSpec
from hub_assets.disclosure.release import load_previous_release
from hub_assets.disclosure.suppression import publish
from hub_assets.governance import audit
from hub_assets.settings import GOVERNANCE_FILE

SUMMER, CROSSOVER = "summer_participation_by_neighbourhood", "crossover_youth_by_sequence"


def _node(name: str, use_case: str, publish_spec: dict, sources: list[str]) -> dict:
    return {"resource_type": "model", "name": name, "schema": "marts", "alias": name,
            "fqn": ["hub", "marts", use_case, name], "description": f"{name}.", "columns": {},
            "depends_on": {"nodes": [f"source.hub.raw.{s}" for s in sources]},
            "config": {"meta": {"use_case": use_case, "publish": publish_spec}}}


def _manifest(tmp_path: Path) -> dict:
    manifest = {
        "nodes": {
            f"model.hub.{SUMMER}": _node(SUMMER, "summer_engagement", {
                "dimensions": ["neighbourhood"], "exclusive": ["neighbourhood"],
                "counts": ["participants", "enrolled_youth"],
                "rates": {"participation_rate": ["participants", "enrolled_youth"]}}, ["rec_parks"]),
            f"model.hub.{CROSSOVER}": _node(CROSSOVER, "crossover_youth", {
                "dimensions": ["sequence"], "exclusive": ["sequence"], "counts": ["crossover_youth"]},
                ["child_welfare", "juvenile_services"]),
        },
        "sources": {f"source.hub.raw.{s}": {"name": s, "source_name": "raw"}
                    for s in ("rec_parks", "child_welfare", "juvenile_services")},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def _write_marts(hub: HubResource, participants_in_d: int = 90) -> None:
    with hub.warehouse() as con:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.{SUMMER} as select * from (values "
                    f"('A', 40, 200, 0.2), ('B', 25, 200, 0.125), ('C', 30, 200, 0.15), "
                    f"('D', {participants_in_d}, 200, {participants_in_d / 200})) "
                    "t(neighbourhood, participants, enrolled_youth, participation_rate)")
        con.execute(f"create or replace table marts.{CROSSOVER} as select * from (values "
                    "('child_welfare_first', 57), ('juvenile_first', 31)) t(sequence, crossover_youth)")


@pytest.fixture
def hub(tmp_path, monkeypatch) -> HubResource:
    monkeypatch.setenv("HUB_DBT_MANIFEST", str(tmp_path / "manifest.json"))
    monkeypatch.setenv("HUB_USER", "tester")
    monkeypatch.delenv("HUB_MIN_CELL_SIZE", raising=False)
    _manifest(tmp_path)
    (tmp_path / "data").mkdir()
    hub = HubResource(data_dir=str(tmp_path / "data"))
    _write_marts(hub)
    return hub


def _defs(hub: HubResource, tmp_path: Path) -> dg.Definitions:
    manifest = _manifest(tmp_path)
    mart_keys = [dg.AssetKey(["marts", SUMMER]), dg.AssetKey(["marts", CROSSOVER])]
    key_of = {f"model.hub.{SUMMER}": mart_keys[0], f"model.hub.{CROSSOVER}": mart_keys[1]}
    release = dg.define_asset_job("release", selection=dg.AssetSelection.groups("public"))
    return dg.Definitions.merge(public_definitions(manifest, key_of=lambda m, uid: key_of[uid]),
                                dg.Definitions(assets=[dg.AssetSpec(k) for k in mart_keys], jobs=[release],
                                               resources={"hub": hub}))


def _release(hub: HubResource, tmp_path: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return _defs(hub, tmp_path).resolve_job_def("release").execute_in_process(instance=instance, raise_on_error=False)


def _release_check(result) -> dg.AssetCheckEvaluation:
    return next(e.asset_check_evaluation_data for e in result.all_events
                if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
                and e.asset_check_evaluation_data.check_name == RELEASE_CHECK)


def _snapshot(public: Path) -> dict[str, bytes]:
    """Every file a reader reaches through ``public/`` (links followed), by path."""
    files = {}
    for folder, _, names in os.walk(public, followlinks=True):
        for name in names:
            path = Path(folder) / name
            if "releases" not in path.relative_to(public).parts:
                files[str(path.relative_to(public))] = path.read_bytes()
    return files


def test_a_release_switches_every_table_its_dictionaries_and_the_page_in_together(tmp_path, hub):
    with dg.DagsterInstance.ephemeral() as instance:
        result = _release(hub, tmp_path, instance)
    assert result.success
    public = hub.paths.public
    current = (public / "current").resolve()
    assert (public / "current").is_symlink() and current.parent == public / "releases"
    record = json.loads((current / "release.json").read_text())
    assert record["release_id"] == current.name and set(record["tables"]) == {SUMMER, CROSSOVER}
    assert record["agreements"] == {"crossover_youth": "DSA-2025-03-crossover",
                                    "summer_engagement": "DSA-2025-01-summer"}
    # Readers keep their paths: public/<use_case>/<mart>.csv is the current release's file.
    for name, use_case in ((SUMMER, "summer_engagement"), (CROSSOVER, "crossover_youth")):
        assert (public / use_case / f"{name}.csv").read_bytes() == (current / use_case / f"{name}.csv").read_bytes()
        assert record["tables"][name]["sha256"] == audit.sha256_file(public / use_case / f"{name}.csv")
        assert (public / use_case / "data_dictionary.md").exists()
    page = (public / "findings" / "index.html").read_text()
    assert f"release {current.name}" in page and "from 2 public tables" in page
    assert "Not published yet" not in page.split('id="crossover_youth"')[1].split("</section>")[0]
    neighbourhoods = page.split('id="summer-neighbourhood"')[1].split("<h3")[0]
    assert "<svg" in neighbourhoods and "Not published yet" not in neighbourhoods
    assert ">55<" in page  # crossover youth, child welfare first: 57, rounded to 5
    assert not list((public / "releases").glob(".staging-*"))
    check = _release_check(result)
    assert check.passed and check.metadata["release_id"].value == current.name
    events = [e for e in audit.read_log(hub.paths.root) if e["action"] == "public_release"]
    assert len(events) == 1 and events[0]["digest"] == record["digest"]
    assert events[0]["approval"] == "DSA-2025-01-summer, DSA-2025-03-crossover"
    assert f"release {current.name}" in events[0]["what"]


def test_the_page_says_in_plain_words_what_a_shown_figure_means(tmp_path, hub):
    with dg.DagsterInstance.ephemeral() as instance:
        assert _release(hub, tmp_path, instance).success
    page = (hub.paths.public / "findings" / "index.html").read_text()
    reading = page.split('id="reading"')[1].split("</section>")[0]
    assert "from 1 to 10 people is never shown" in reading and "is not zero" in reading
    assert f"marked {ALL} counts each person once" in reading
    dictionary = (hub.paths.public / "summer_engagement" / "data_dictionary.md").read_text()
    assert "## How to read these figures" in dictionary and "from 1 to 10 people is never shown" in dictionary


def test_rounding_is_said_on_the_page_and_in_the_dictionary(tmp_path, hub):
    with dg.DagsterInstance.ephemeral() as instance:
        assert _release(hub, tmp_path, instance).success
    assert "Every count shown is rounded to the nearest 5" in (hub.paths.public / "findings" / "index.html").read_text()
    assert "a count shown as 15 means between 13 and 17" in (
        hub.paths.public / "crossover_youth" / "data_dictionary.md").read_text()


def test_without_rounding_the_page_says_nothing_of_it(tmp_path, hub, monkeypatch):
    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    raw.setdefault("disclosure", {})["rounding_base"] = 1
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert _release(hub, tmp_path, instance).success
    page = (hub.paths.public / "findings" / "index.html").read_text()
    assert "rounded" not in page and ">57<" in page


def test_a_release_is_never_run_for_some_tables_only(tmp_path, hub):
    defs = _defs(hub, tmp_path)
    job = dg.define_asset_job("one", selection=dg.AssetSelection.assets(dg.AssetKey(["public", SUMMER])))
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("one")


def test_a_release_that_fails_its_audit_changes_nothing_public(tmp_path, hub, monkeypatch):
    with dg.DagsterInstance.ephemeral() as instance:
        assert _release(hub, tmp_path, instance).success
        before, current = _snapshot(hub.paths.public), (hub.paths.public / "current").resolve()
        assert f"summer_engagement/{SUMMER}.csv" in before and "findings/index.html" in before
        # A protection that lets small counts through: the release's checks must stop it.
        _write_marts(hub, participants_in_d=7)
        protect_with_audit = release_step.protect_with_audit

        def leaky(marts, threshold, previous, previous_publication):
            _, audit_result = protect_with_audit(marts, threshold, previous, previous_publication)
            return {m.name: publish(cells, m.spec, 0, m.name) for m, cells in marts}, audit_result

        monkeypatch.setattr(release_step, "protect_with_audit", leaky)
        result = _release(hub, tmp_path, instance)
    assert not result.success
    check = _release_check(result)
    assert not check.passed and "participants=7 is visible" in check.metadata["first_problems"].value
    assert _snapshot(hub.paths.public) == before and (hub.paths.public / "current").resolve() == current
    assert [p.name for p in (hub.paths.public / "releases").iterdir() if not p.name.startswith(".")] == [current.name]
    with duckdb.connect(str(hub.paths.warehouse_db), read_only=True) as con:
        assert con.execute(f"select participants from public.{SUMMER} where neighbourhood = 'D'").fetchone() == (90,)
    assert len([e for e in audit.read_log(hub.paths.root) if e["action"] == "public_release"]) == 1


def test_a_governance_refusal_stops_the_whole_release(tmp_path, hub, monkeypatch):
    raw = yaml.safe_load(GOVERNANCE_FILE.read_text())
    for agreement in raw["agreements"]:
        if agreement["use_case"] == "crossover_youth":
            agreement["expires_on"] = "2020-01-01"
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(tmp_path / "governance.yaml"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = _release(hub, tmp_path, instance)
    assert not result.success
    assert "DSA-2025-03-crossover expired" in _release_check(result).metadata["first_problems"].value
    assert not (hub.paths.public / "summer_engagement").exists()  # the other use case waits too
    assert not (hub.paths.public / "findings").exists()


def test_earlier_releases_stay_readable_and_the_previous_one_is_loaded(tmp_path, hub):
    with dg.DagsterInstance.ephemeral() as instance:
        assert _release(hub, tmp_path, instance).success
        first = (hub.paths.public / "current").resolve()
        first_files = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
        assert load_previous_release(hub.paths.public)[SUMMER]["participants"].to_list()[-1] == 185  # the Total
        _write_marts(hub, participants_in_d=120)
        assert _release(hub, tmp_path, instance).success
    second = (hub.paths.public / "current").resolve()
    assert second != first and {first, second} == set((hub.paths.public / "releases").iterdir())
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == first_files  # immutable
    previous = load_previous_release(hub.paths.public)
    assert set(previous) == {SUMMER, CROSSOVER}
    assert previous[SUMMER].filter(pl.col("neighbourhood") == "D")["participants"].to_list() == [120]
    assert ">120<" in (hub.paths.public / "findings" / "index.html").read_text()


def test_a_release_after_the_rounding_base_changed_is_audited_against_the_previous_at_its_own_base(
        tmp_path, hub, monkeypatch):
    """Each release records the base it was published with; the next release's audit reads the
    previous one at that base (read at the new base, the previous counts contradict each other)."""
    def use_base(base: int) -> None:
        path = tmp_path / f"governance-{base}.yaml"
        path.write_text(GOVERNANCE_FILE.read_text().replace("rounding_base: 5", f"rounding_base: {base}"))
        monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(path))

    with dg.DagsterInstance.ephemeral() as instance:
        use_base(5)
        assert _release(hub, tmp_path, instance).success
        first = (hub.paths.public / "current").resolve()
        _write_marts(hub, participants_in_d=123)
        use_base(10)
        result = _release(hub, tmp_path, instance)
    assert result.success, [e.message for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    second = (hub.paths.public / "current").resolve()
    records = [json.loads((f / "release.json").read_text()) for f in (first, second)]
    assert [r["rounding_base"] for r in records] == [5, 10] and records[1]["previous_release"] == first.name
    check = _release_check(result)
    assert check.passed and check.metadata["audit_changes_compared"].value > 0
    assert load_previous_release(hub.paths.public)[SUMMER].filter(
        pl.col("neighbourhood") == "D")["participants"].to_list() == [120]  # 123 at base 10


# --- totals: summed only along dimensions declared exclusive -----------------------------------

def test_totals_are_summed_only_along_exclusive_dimensions():
    spec = PublishSpec.from_meta({"dimensions": ["school_id", "sex"], "exclusive": ["sex"], "counts": ["n"]}, "t")
    assert spec.totalled == ("sex",) and spec.overlapping == ("school_id",)
    # One student at S1 and S2: the mart's All row counts them once (3), the schools' rows sum to 4.
    mart = pl.DataFrame({"school_id": ["S1", "S2", ALL], "sex": ["F", "F", "F"], "n": [3, 1, 3]})
    table = publish(mart, spec, 0, "t")
    assert TOTAL not in table["school_id"].to_list()
    assert table.filter((pl.col("school_id") == ALL) & (pl.col("sex") == TOTAL))["n"].to_list() == [3]


def test_a_sum_over_overlapping_groups_is_refused_naming_the_mart():
    with pytest.raises(ValueError, match=r"mart m: meta.publish.totals would sum over \['provider'\]"):
        PublishSpec.from_meta({"dimensions": ["provider"], "exclusive": [], "totals": ["provider"],
                               "counts": ["n"]}, "mart m")
    spec = PublishSpec.from_meta({"dimensions": ["sex"], "exclusive": ["sex"], "counts": ["n"]}, "t")
    with pytest.raises(ValueError, match="'sex' is summed .declared exclusive. but has 'All' rows"):
        publish(pl.DataFrame({"sex": ["F", ALL], "n": [12, 12]}), spec, 10, "mart m")


def test_every_published_mart_must_declare_its_exclusive_dimensions(tmp_path):
    manifest = _manifest(tmp_path)
    del manifest["nodes"][f"model.hub.{CROSSOVER}"]["config"]["meta"]["publish"]["exclusive"]
    with pytest.raises(ValueError, match=f"dbt model {CROSSOVER} .*must declare exclusive"):
        published_marts(manifest)


def test_the_projects_marts_declare_exclusivity_and_sum_no_overlapping_groups():
    from hub_assets.dbt.manifest import load_manifest

    marts = {m.name: m.spec for m in published_marts(load_manifest())}
    assert len(marts) >= 14
    assert marts["student_homelessness_by_school"].totalled == ()  # a student can attend two schools
    assert marts["summer_participants_by_provider"].totalled == ()  # a youth can attend two providers
    assert marts["summer_participation_by_neighbourhood"].totalled == ("neighbourhood",)
