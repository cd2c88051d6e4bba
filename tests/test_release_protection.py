"""A release protected as one linked problem, and the attacker audit that blocks it.

Each attack is planted: it fails the audit as the tables were published before (each table on its
own, counts exact) and passes once the release is protected (``protect_release``)."""

from __future__ import annotations

import io
import itertools
import math
from contextlib import nullcontext

import polars as pl
import pytest

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.margins import PublishSpec
from hub_assets.disclosure.protect import audit_release, protect_release
from hub_assets.disclosure.release_audit import Publication
from hub_assets.disclosure.suppression import cube, publish, render
from hub_assets.disclosure.table_checks import recoverable_suppressed

THRESHOLD = 10


def _mart(name: str, dims: list[str], counts: list[str], use_case: str = "summer", **publish) -> PublishedMart:
    spec = PublishSpec.from_meta({"dimensions": dims, "counts": counts, **publish}, name)
    return PublishedMart(f"model.hub.{name}", name, use_case, "marts", name, spec, "", {})


def _csv(table: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    table.write_csv(out)
    return out.getvalue()


@pytest.fixture
def rounding_base(tmp_path, monkeypatch):
    """Set ``disclosure.rounding_base`` in a copy of governance.yaml."""
    from hub_assets.settings import GOVERNANCE_FILE

    def use(base: int) -> None:
        path = tmp_path / f"governance-{base}.yaml"
        path.write_text(GOVERNANCE_FILE.read_text().replace("rounding_base: 5", f"rounding_base: {base}"))
        monkeypatch.setenv("HUB_GOVERNANCE_FILE", str(path))
    return use


@pytest.fixture
def exact_publication(rounding_base):
    """Counts published exactly (``disclosure.rounding_base: 1``), as before rounding."""
    rounding_base(1)


# --- 1. Deterministic -------------------------------------------------------------------------

BY_SEX = _mart("opportunity_youth_by_group", ["neighbourhood", "sex"], ["enrolled_youth"])
TIED = pl.DataFrame({"neighbourhood": ["N1"] * 3 + ["N2"] * 3, "sex": ["F", "M", "U"] * 2,
                     "enrolled_youth": [47, 47, 1, 60, 60, 30]})


def test_the_same_cells_in_any_row_order_publish_the_same_table():
    """Two sexes tie at 47 beside a hidden 1: which one goes is decided by the declared order
    (F before M), not by the order the warehouse returned the rows in."""
    tables = {_csv(publish(TIED[list(order)], BY_SEX.spec, THRESHOLD, "t"))
              for order in itertools.permutations(range(TIED.height))}
    assert len(tables) == 1
    published = publish(TIED, BY_SEX.spec, THRESHOLD, "t")
    hidden = published.filter(pl.col("enrolled_youth_suppressed"))
    assert ("N1", "F") in list(zip(hidden["neighbourhood"], hidden["sex"]))
    assert ("N1", "M") not in list(zip(hidden["neighbourhood"], hidden["sex"]))


def test_a_release_is_the_same_bytes_every_time_whatever_the_row_order():
    marts = [(BY_SEX, TIED), (_mart("by_neighbourhood", ["neighbourhood"], ["enrolled_youth"]),
                              pl.DataFrame({"neighbourhood": ["N1", "N2"], "enrolled_youth": [95, 150]}))]
    first = protect_release(marts, THRESHOLD, {})
    again = protect_release([(m, c.reverse()) for m, c in reversed(marts)], THRESHOLD, {})
    assert {n: _csv(t) for n, t in first.items()} == {n: _csv(t) for n, t in again.items()}


# --- 2. A recovery that needs two tables ------------------------------------------------------

BY_NEIGHBOURHOOD = _mart("summer_participation_by_neighbourhood", ["neighbourhood"], ["enrolled_youth"])
GAPS = _mart("summer_engagement_gaps", ["dimension", "group_value"], ["enrolled_youth"])
NEIGHBOURHOODS = pl.DataFrame({"neighbourhood": ["N1", "N2", "N3", "N4"], "enrolled_youth": [4, 30, 31, 50]})
REPUBLISHED = pl.DataFrame({"dimension": ["neighbourhood"] * 4, "group_value": ["N1", "N2", "N3", "N4"],
                            "enrolled_youth": [4, 30, 31, 50]})


def _with_pattern(mart: PublishedMart, cells: pl.DataFrame, hidden_rows: set[int]) -> pl.DataFrame:
    return render(cube(cells, mart.spec, mart.name), mart.spec, {"enrolled_youth": hidden_rows})


def test_a_count_hidden_in_one_table_and_shown_in_another_is_recovered_then_protected(exact_publication):
    # Each table on its own: N1 (4) hidden with one partner, N2 in one, N3 in the other.
    own = {BY_NEIGHBOURHOOD.name: (BY_NEIGHBOURHOOD, _with_pattern(BY_NEIGHBOURHOOD, NEIGHBOURHOODS, {0, 1})),
           GAPS.name: (GAPS, _with_pattern(GAPS, REPUBLISHED, {0, 2}))}
    assert all(recoverable_suppressed(t, m.spec, THRESHOLD) == [] for m, t in own.values())
    before = audit_release(own, {}, THRESHOLD)
    assert not before.ok
    assert any("summer_engagement_gaps.enrolled_youth at dimension=neighbourhood, group_value=N1 is determined "
               "exactly (it is 4)" in f for f in before.failures)

    tables = protect_release([(BY_NEIGHBOURHOOD, NEIGHBOURHOODS), (GAPS, REPUBLISHED)], THRESHOLD, {})
    after = audit_release({n: (m, tables[n]) for n, m in [(BY_NEIGHBOURHOOD.name, BY_NEIGHBOURHOOD),
                                                           (GAPS.name, GAPS)]}, {}, THRESHOLD)
    assert after.ok, after.failures
    hidden = {name: set(tables[name].filter(pl.col("enrolled_youth_suppressed"))[column])
              for name, column in [(BY_NEIGHBOURHOOD.name, "neighbourhood"), (GAPS.name, "group_value")]}
    assert hidden[BY_NEIGHBOURHOOD.name] == hidden[GAPS.name] == {"N1", "N2"}  # the republished count alike


# --- 3. Differencing two releases -------------------------------------------------------------

BY_GROUP = _mart("summer_participation_by_group", ["neighbourhood", "age_band"], ["participants"])


def _release(extra: int) -> pl.DataFrame:
    """A city's participants; ``extra`` youth from a late drop, all in N1 aged 14-15."""
    values = [42, 57, 33, 61, 75, 48, 39, 52, 66]
    cells = [(n, a) for n in ("N1", "N2", "N3") for a in ("11-13", "14-15", "16-18")]
    return pl.DataFrame({"neighbourhood": [n for n, _ in cells], "age_band": [a for _, a in cells],
                         "participants": [v + (extra if (n, a) == ("N1", "14-15") else 0)
                                          for v, (n, a) in zip(values, cells)]})


def test_a_late_drop_of_three_youth_reads_exactly_from_two_exact_releases(exact_publication):
    before = {BY_GROUP.name: (BY_GROUP, publish(_release(0), BY_GROUP.spec, THRESHOLD, "t"))}
    after = {BY_GROUP.name: (BY_GROUP, publish(_release(3), BY_GROUP.spec, THRESHOLD, "t"))}
    audit = audit_release(after, before, THRESHOLD)
    assert not audit.ok
    assert any("participants at neighbourhood=N1, age_band=14-15 changed by exactly 3" in f for f in audit.failures)


@pytest.mark.parametrize("late", range(1, 11))
def test_no_late_drop_of_one_to_ten_youth_reads_exactly_from_two_rounded_releases(late):
    first = protect_release([(BY_GROUP, _release(0))], THRESHOLD, {})
    second = protect_release([(BY_GROUP, _release(late))], THRESHOLD, first)
    audit = audit_release({BY_GROUP.name: (BY_GROUP, second[BY_GROUP.name])},
                          {BY_GROUP.name: (BY_GROUP, first[BY_GROUP.name])}, THRESHOLD)
    assert audit.ok, audit.failures
    assert audit.changes_compared == 16  # every cell and total of the table, in both releases
    assert all(v % 5 == 0 for v in second[BY_GROUP.name]["participants"].drop_nulls())


@pytest.mark.parametrize("first, second", [(5, 10), (10, 5), (1, 5)])
def test_a_release_after_the_rounding_base_changed_reads_the_previous_one_at_its_own_base(rounding_base, first, second):
    """The previous release is modelled with the base it was published with (recorded in its
    ``release.json``), not today's: read at today's base its counts would be taken for exact (a
    multiple of 5 that is not one of 10) or too wide, and the audit would find the previous
    release contradicting itself, or miss what it gives away."""
    rounding_base(first)
    earlier = protect_release([(BY_GROUP, _release(0))], THRESHOLD, {})
    rounding_base(second)
    with pytest.raises(ValueError, match="contradict each other") if first > 1 else nullcontext():
        protect_release([(BY_GROUP, _release(3))], THRESHOLD, earlier)  # the base not recorded: guessed
    later = protect_release([(BY_GROUP, _release(3))], THRESHOLD, earlier, Publication(THRESHOLD, first))
    audit = audit_release({BY_GROUP.name: (BY_GROUP, later[BY_GROUP.name])},
                          {BY_GROUP.name: (BY_GROUP, earlier[BY_GROUP.name])}, THRESHOLD,
                          previous_publication=Publication(THRESHOLD, first))
    assert audit.ok, audit.failures
    assert audit.changes_compared == 16
    assert all(v % second == 0 for v in later[BY_GROUP.name]["participants"].drop_nulls())


# --- 4. A too-narrow interval -----------------------------------------------------------------

SCHOOLS = _mart("student_homelessness_by_school", ["school"], ["students"])
NARROW = pl.DataFrame({"school": ["A", "B", "C"], "students": [11, 1, 2]})


def test_a_small_count_pinned_within_one_or_two_fails_then_is_widened(exact_publication):
    own = publish(NARROW, SCHOOLS.spec, THRESHOLD, "t")  # B and C hidden: B + C = 3, so B is 1 or 2
    assert recoverable_suppressed(own, SCHOOLS.spec, THRESHOLD) == []  # nothing is determined exactly
    before = audit_release({SCHOOLS.name: (SCHOOLS, own)}, {}, THRESHOLD)
    assert "suppressed student_homelessness_by_school.students at school=B lies in [1, 2], narrower than the " \
           "protection width 3" in before.failures

    tables = protect_release([(SCHOOLS, NARROW)], THRESHOLD, {})
    after = audit_release({SCHOOLS.name: (SCHOOLS, tables[SCHOOLS.name])}, {}, THRESHOLD)
    assert after.ok, after.failures
    assert min(hi - lo for lo, hi in after.suppressed.values()) >= 3


def test_audit_figures_name_the_narrowest_interval():
    tables = protect_release([(SCHOOLS, NARROW)], THRESHOLD, {})
    figures = audit_release({SCHOOLS.name: (SCHOOLS, tables[SCHOOLS.name])}, {}, THRESHOLD).metadata()
    assert figures["audit_ok"] is True and figures["audit_exactly_determined"] == 0
    assert figures["audit_suppressed_cells"] == 2
    assert figures["audit_narrowest_interval"].startswith("student_homelessness_by_school.students at school=")


# --- Rounding: counts, and rates consistent with them -----------------------------------------

GAPS_WITH_RATES = _mart("summer_engagement_gaps", ["neighbourhood"], ["enrolled_youth", "enrolled_participants"],
                        rates={"participation_rate": ["enrolled_participants", "enrolled_youth"],
                               "participants_short": ["enrolled_participants", "enrolled_youth"]})


def test_every_count_is_rounded_and_every_rate_comes_from_the_rounded_counts():
    cells = pl.DataFrame({"neighbourhood": ["N1", "N2", "N3"], "enrolled_youth": [43, 58, 71],
                          "enrolled_participants": [12, 29, 33]})
    cells = cells.with_columns((pl.col("enrolled_participants") / pl.col("enrolled_youth")).round(4)
                               .alias("participation_rate"),
                               pl.lit([9, 0, 4]).explode().cast(pl.Float64).alias("participants_short"))
    table = protect_release([(GAPS_WITH_RATES, cells)], THRESHOLD, {})[GAPS_WITH_RATES.name]
    shown = table.filter(~pl.col("participation_rate_suppressed"))
    assert shown.height >= 3
    for count in ("enrolled_youth", "enrolled_participants"):
        assert all(v % 5 == 0 for v in table[count].drop_nulls())
    for row in shown.iter_rows(named=True):
        assert row["participation_rate"] == round(row["enrolled_participants"] / row["enrolled_youth"], 4)
    assert set(table["participants_short"].drop_nulls()) <= {0.0, 5.0, 10.0}  # a count, rounded like one


# --- Relations between tables beyond margins (meta.publish.relations) ---------------------------

RELATIONS = {
    "overview": ["provider_participations == sum(summer_participants_by_provider.participants)",
                 "participants_in_two_or_more == sum(summer_providers_per_youth.participants, providers_used >= 2)",
                 "sum(summer_participants_by_provider.participants_only_this_provider) == "
                 "sum(summer_providers_per_youth.participants, providers_used == 1)"],
    "by_provider": ["participants == participants_only_this_provider + participants_also_elsewhere"],
}


def _providers(relations: bool) -> list[tuple[PublishedMart, pl.DataFrame]]:
    """Four providers of one summer: Family League's 8 youth also served elsewhere are hidden in
    its own table, and 302 youth used one provider, 34 two (the issue's attack, in miniature)."""
    def declared(kind: str) -> dict:
        return {"relations": RELATIONS[kind]} if relations else {}
    overview = _mart("summer_engagement_overview", ["summer_year"],
                     ["participants", "provider_participations", "participants_in_two_or_more"], exclusive=[],
                     parts={"participants": ["participants_in_two_or_more"]}, **declared("overview"))
    by_provider = _mart(
        "summer_participants_by_provider",
        ["summer_year", "provider"],
        ["participants", "participants_only_this_provider", "participants_also_elsewhere"],
        exclusive=[],
        parts={"participants": ["participants_only_this_provider", "participants_also_elsewhere"]},
        **declared("by_provider"),
    )
    per_youth = _mart(
        "summer_providers_per_youth", ["summer_year", "providers_used"], ["participants"], exclusive=["providers_used"]
    )
    return [
        (
            overview,
            pl.DataFrame(
                {
                    "summer_year": [2026],
                    "participants": [336],
                    "provider_participations": [370],
                    "participants_in_two_or_more": [34],
                }
            ),
        ),
        (
            by_provider,
            pl.DataFrame(
                {
                    "summer_year": [2026] * 4,
                    "provider": ["family_league", "rec_parks", "summer_funding", "youthworks"],
                    "participants": [55, 100, 110, 105],
                    "participants_only_this_provider": [47, 85, 85, 85],
                    "participants_also_elsewhere": [8, 15, 25, 20],
                }
            ),
        ),
        (per_youth, pl.DataFrame({"summer_year": [2026, 2026], "providers_used": [1, 2], "participants": [302, 34]})),
    ]


def test_a_count_recovered_only_through_the_relations_between_three_tables_fails_then_is_protected(exact_publication):
    """Family League's youth also served elsewhere (8): hidden in its table with their complement,
    and recovered as 8 from how many providers each youth used (302 used one) and the other
    providers' shown counts. Without the declared relations the audit's reader misses it."""
    wanted = (
        "summer_participants_by_provider.participants_also_elsewhere at summer_year=2026, "
        "provider=family_league is determined exactly (it is 8)"
    )
    own = {m.name: (m, publish(c, m.spec, THRESHOLD, m.name)) for m, c in _providers(relations=True)}
    assert own["summer_participants_by_provider"][1]["participants_also_elsewhere_suppressed"][0]
    assert all(recoverable_suppressed(t, m.spec, THRESHOLD) == [] for m, t in own.values())
    blind = {m.name: (m, own[m.name][1]) for m, _ in _providers(relations=False)}
    assert audit_release(blind, {}, THRESHOLD).ok  # margins and parts alone give nothing away
    before = audit_release(own, {}, THRESHOLD)
    assert any(wanted in f for f in before.failures), before.failures

    marts = _providers(relations=True)
    tables = protect_release(marts, THRESHOLD, {})
    after = audit_release({m.name: (m, tables[m.name]) for m, _ in marts}, {}, THRESHOLD)
    assert after.ok, after.failures
    assert min(hi - lo for lo, hi in after.suppressed.values()) >= 3


def test_an_all_row_lies_between_its_largest_group_and_the_sum_of_its_groups(exact_publication):
    """A student at two schools counts at both; the mart's All row counts them once. A reader
    knows All is at least each school's count and at most their sum, and nothing tighter."""
    schools = _mart("student_homelessness_by_school", ["school_year", "school_id"], ["students"], exclusive=[])
    cells = pl.DataFrame({"school_year": ["2025"] * 3, "school_id": ["A", "B", "All"], "students": [12, 15, 24]})
    full = cube(cells, schools.spec, schools.name)
    table = render(full, schools.spec, {"students": {full["school_id"].to_list().index("All")}})
    audit = audit_release({schools.name: (schools, table)}, {}, THRESHOLD)
    assert audit.suppressed == {"student_homelessness_by_school.students at school_year=2025, school_id=All": (15, 27)}



def test_an_unchanged_release_republished_over_itself_is_the_same_tables():
    """A week with no new data publishes what it published before. Comparing the release with the
    previous one solves the shown cells too, and an interval seen in passing (over the solutions
    found so far) is only inside a cell's true interval: read as the whole interval, it made a
    shown difference (participants less those served only here) look narrow and hid a cell that
    the first release showed."""
    overview, by_provider, per_youth = (m for m, _ in _providers(relations=True))
    also, only = [12, 11, 4, 10], [55, 33, 25, 57]
    two = sum(also) // 2
    marts = [(overview, pl.DataFrame({"summer_year": [2026], "participants": [sum(only) + two],
                                      "provider_participations": [sum(also) + sum(only)],
                                      "participants_in_two_or_more": [two]})),
             (by_provider, pl.DataFrame({"summer_year": [2026] * 4,
                                         "provider": ["family_league", "rec_parks", "summer_funding", "youthworks"],
                                         "participants": [a + o for a, o in zip(also, only, strict=True)],
                                         "participants_only_this_provider": only,
                                         "participants_also_elsewhere": also})),
             (per_youth, pl.DataFrame({"summer_year": [2026, 2026], "providers_used": [1, 2],
                                       "participants": [sum(only), two]}))]
    first = protect_release(marts, THRESHOLD, {})
    again = protect_release(marts, THRESHOLD, first, Publication(THRESHOLD, 5))
    assert {n: _csv(t) for n, t in again.items()} == {n: _csv(t) for n, t in first.items()}


def test_a_gap_to_the_city_wide_rate_says_nothing_the_rounded_counts_do_not():
    """Two summers' groups whose exact counts differ by one youth but round alike publish the same
    gaps table: the gap and the shortfall are computed again from the published figures (each
    breakdown's Total row as the city-wide rate), not from the exact counts, whose rate to two
    decimals would tell 41 from 42 participants of 100."""
    from hub_assets.dbt.manifest import load_manifest, published_marts

    gaps = next(m for m in published_marts(load_manifest()) if m.name == "summer_engagement_gaps")
    assert {rate for rate, _ in gaps.spec.recomputed} == {"rate_gap", "participants_short"}

    def cells(participants_in_n1: int) -> pl.DataFrame:
        enrolled, participants = [100, 120, 150], [participants_in_n1, 30, 75]
        city = sum(participants) / sum(enrolled)
        pairs = list(zip(participants, enrolled, strict=True))
        return pl.DataFrame({
            "summer_year": [2026] * 3, "dimension": ["neighbourhood"] * 3, "group_value": ["N1", "N2", "N3"],
            "enrolled_youth": enrolled, "enrolled_participants": participants,
            "participation_rate": [p / e for p, e in pairs], "rate_gap": [city - p / e for p, e in pairs],
            "participants_short": [max(math.ceil(city * e) - p, 0) for p, e in pairs]})

    one, other = (protect_release([(gaps, cells(n))], THRESHOLD, {})[gaps.name] for n in (41, 42))
    assert _csv(one) == _csv(other)
    n2 = one.filter(pl.col("group_value") == "N2").row(0, named=True)
    total = one.filter(pl.col("group_value") == "Total").row(0, named=True)
    assert n2["enrolled_participants"] == 30 and n2["enrolled_youth"] == 120  # rounded to base 5
    assert n2["rate_gap"] == round(total["participation_rate"] - n2["participation_rate"], 4) > 0
    assert n2["participants_short"] == math.ceil(120 * total["enrolled_participants"] / total["enrolled_youth"]) - 30
    assert total["participants_short"] == 0


# --- 8. Each table at its own threshold ---------------------------------------------------------

ORDINARY = _mart("headline_rates_by_subpopulation", ["neighbourhood"], ["youth", "youth_in_measure"],
                 use_case="subpopulations", parts={"youth": ["youth_in_measure"]})
STRICTER = _mart("headline_rates_by_behavioral_health", ["neighbourhood"], ["bh_youth", "bh_youth_in_measure"],
                 use_case="subpopulations", parts={"bh_youth": ["bh_youth_in_measure"]})
PER_TABLE = {ORDINARY.name: THRESHOLD, STRICTER.name: 20}  # the second reaches a source held to 20


def _counts(prefix: str, youth: list[int], in_measure: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"neighbourhood": ["N1", "N2", "N3"], f"{prefix}youth": youth,
                         f"{prefix}youth_in_measure": in_measure})


def test_a_table_reaching_a_stricter_source_is_suppressed_at_its_threshold_and_the_others_at_the_default():
    """A count of 15 is shown in the ordinary table and suppressed (with a partner) in the table
    held to 20; held to one threshold for the release, either both hide it or neither does."""
    cells = [(ORDINARY, _counts("", [15, 60, 90], [0, 30, 45])), (STRICTER, _counts("bh_", [15, 60, 90], [0, 30, 45]))]
    tables = protect_release(cells, PER_TABLE, {})
    assert tables[ORDINARY.name]["youth_suppressed"].to_list() == [False] * 4
    assert tables[ORDINARY.name]["youth"].to_list()[0] == 15
    hidden = tables[STRICTER.name].filter(pl.col("bh_youth_suppressed"))["neighbourhood"].to_list()
    assert hidden == ["N1", "N2"]  # 15, and the next smallest so that N1 is not total - N2 - N3
    assert audit_release({m.name: (m, tables[m.name]) for m, _ in cells}, {}, PER_TABLE).ok
    for threshold, hides in ((THRESHOLD, False), (20, True)):  # one threshold for the whole release
        one = protect_release(cells, threshold, {})
        assert {n: t["youth_suppressed" if n == ORDINARY.name else "bh_youth_suppressed"][0]
                for n, t in one.items()} == {ORDINARY.name: hides, STRICTER.name: hides}


def test_the_attacker_audit_holds_each_table_to_its_own_threshold(exact_publication):
    """Two tables, each with a difference of 15 shown outright (whole 30, part 15) and a cell
    that grew by exactly 15 since the previous release: a few people for the table held to 20,
    not for the one held to 10."""
    before = {m.name: (m, publish(_counts(p, [30, 60, 90], [15, 30, 45]), m.spec, 0, m.name))
              for m, p in ((ORDINARY, ""), (STRICTER, "bh_"))}
    after = {m.name: (m, publish(_counts(p, [30, 75, 90], [15, 30, 45]), m.spec, 0, m.name))
             for m, p in ((ORDINARY, ""), (STRICTER, "bh_"))}
    audit = audit_release(after, before, PER_TABLE, previous_publication=Publication(THRESHOLD, 1, PER_TABLE))
    assert audit.failures_of(ORDINARY.name) == []
    failures = audit.failures_of(STRICTER.name)
    assert any("bh_youth - bh_youth_in_measure at neighbourhood=N1 (a count of people) lies in [15, 15]" in f
               for f in failures), failures
    assert any("bh_youth at neighbourhood=N2 changed by exactly 15" in f for f in failures), failures
    assert audit_release(after, before, THRESHOLD, previous_publication=Publication(THRESHOLD, 1)).ok
    # A previous release that recorded one threshold held every table to it: read so, the stricter
    # table's change is a few people only by its threshold in this release.
    assert any("changed by exactly 15" in f for f in audit_release(
        after, before, PER_TABLE, previous_publication=Publication(THRESHOLD, 1)).failures_of(STRICTER.name))


def test_a_shown_count_is_known_to_be_above_its_own_tables_threshold():
    """Shown as 20 (rounded to 5) in a table held to 20, a count is 21 or 22; in one held to 10,
    18 to 22."""
    from hub_assets.disclosure.attack import build_model

    tables = {m.name: (m, protect_release([(m, _counts(p, [21, 60, 90], [0, 30, 45]))], PER_TABLE, {})[m.name])
              for m, p in ((ORDINARY, ""), (STRICTER, "bh_"))}
    model = build_model(tables, PER_TABLE, 5)
    for name, count, low in ((ORDINARY.name, "youth", 18), (STRICTER.name, "bh_youth", 21)):
        v = model.index[(name, 0, count)]
        assert (model.shown[v], model.lower[v], model.upper[v]) == (20, low, 22)
