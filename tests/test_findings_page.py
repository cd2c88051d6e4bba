"""The findings page renders from the public zone only, shows suppressed cells as suppressed
(never zero), and its charts draw in headless Chromium without console errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub_assets.findings import render_findings_page, write_findings_page

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# A small public zone as the privacy step writes it: suppressed cells are empty with a flag.
PUBLIC_ZONE = {
    "summer_engagement/unduplicated_participants.csv": (
        "participants,participants_suppressed,providers,providers_suppressed\n"
        "812,false,4,false\n"),
    "summer_engagement/participation_by_week.csv": (
        "week_of_summer,participants,participants_suppressed\n"
        "1,120,false\n2,301,false\n3,355,false\n4,342,false\n5,298,false\n6,250,false\n"
        "7,130,false\n8,,true\n"),
    "summer_engagement/participation_by_neighbourhood.csv": (
        "neighbourhood,participants,participants_suppressed,enrolled_youth,enrolled_youth_suppressed,"
        "participation_rate,participation_rate_suppressed\n"
        "Belair-Edison,64,false,250,false,0.256,false\n"
        "Canton,,true,95,false,,true\n"
        "Downtown/Seton Hill,31,false,160,false,0.194,false\n"
        "Greater Roland Park/Poplar Hill,12,false,180,false,0.067,false\n"),
    "summer_engagement/participation_by_group.csv": (
        "dimension,group,participants,participants_suppressed,participation_rate,"
        "participation_rate_suppressed\n"
        "age_band,10-13,300,false,0.31,false\nage_band,14-17,420,false,0.28,false\n"
        "age_band,18-24,92,false,0.12,false\n"
        "sex,F,430,false,0.29,false\nsex,M,380,false,0.25,false\nsex,X,,true,,true\n"
        "race_ethnicity,BLACK,610,false,0.30,false\nrace_ethnicity,HISPANIC,88,false,0.21,false\n"
        "race_ethnicity,WHITE,105,false,0.22,false\nrace_ethnicity,NHPI,,true,,true\n"),
    "summer_engagement/participation_gaps.csv": (
        "rank,dimension,group,participation_rate,participation_rate_suppressed,city_rate,gap\n"
        "1,neighbourhood,Greater Roland Park/Poplar Hill,0.067,false,0.27,0.203\n"
        "2,age_band,18-24,0.12,false,0.27,0.15\n"),
    "crossover_youth/crossover_summary.csv": (
        "crossover_youth,crossover_youth_suppressed,foster_care_first,foster_care_first_suppressed\n"
        "57,false,,true\n"),
    "student_homelessness/homelessness_by_school.csv": (
        "school,students_flagged,students_flagged_suppressed,added_by_hmis,added_by_hmis_suppressed\n"
        "School 101,45,false,12,false\nSchool 202,,true,,true\n"),
    "programme_outcomes/programme_outcome_estimates.csv": (
        "programme,outcome,summer_year,dimension,group_value,youth_compared,youth_compared_suppressed,"
        "participants,participants_suppressed,effect,effect_suppressed,effect_lower,effect_lower_suppressed,"
        "effect_upper,effect_upper_suppressed,naive_difference,naive_difference_suppressed\n"
        "youthworks,attendance_rate,2025,all,all,1715,false,180,false,4.0,false,1.0,false,7.0,false,5.75,false\n"
        "youthworks,chronic_absence,2025,all,all,1715,false,180,false,-21.9,false,-26.4,false,-17.4,false,-39.9,false\n"
        "youthworks,earnings,2025,all,all,1015,false,115,false,642.04,false,-53.3,false,1030.7,false,500.9,false\n"
        "youthworks,attendance_rate,2025,sex,F,850,false,95,false,4.2,false,2.1,false,6.3,false,6.1,false\n"
        "youthworks,attendance_rate,2025,race_ethnicity,NHPI,15,false,,true,,true,,true,,true,,true\n"
        "family_league,attendance_rate,2025,all,all,4490,false,15,false,,false,,false,,false,,false\n"),
    "subpopulations/headline_rates_by_subpopulation.csv": (
        "measure,period,subpopulation,youth,youth_suppressed,youth_in_measure,youth_in_measure_suppressed,"
        "rate,rate_suppressed\n"
        "summer_participation,2025,all_youth,6410,false,1640,false,0.2559,false\n"
        "summer_participation,2025,foster_care,80,false,20,false,0.25,false\n"
        "summer_participation,2025,young_parent,25,false,,true,,true\n"
        "summer_participation,2025,homelessness,285,false,60,false,0.2105,false\n"),
}


def make_public_zone(root: Path) -> Path:
    public = root / "public"
    for rel, text in PUBLIC_ZONE.items():
        path = public / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return public


def test_suppressed_cells_render_as_suppressed_never_zero(tmp_path):
    html = render_findings_page(make_public_zone(tmp_path))

    # Week 8, Canton, sex X, NHPI, School 202 (x2), foster_care_first: at least one mark each.
    assert html.count('class="bar suppressed"') >= 5
    assert 'Canton: suppressed' in html and "Canton: 0" not in html
    assert ">0<" not in html and ">0.0%<" not in html
    assert html.count('<span class="suppressed">suppressed</span>') >= 8


def test_summer_story_has_every_topic_and_other_use_cases_their_headlines(tmp_path):
    html = render_findings_page(make_public_zone(tmp_path))

    for anchor in ("summer-weekly", "summer-neighbourhood", "summer-age", "summer-gender",
                   "summer-race", "summer-gaps"):
        assert f'id="{anchor}"' in html
    section = html.split('id="summer-weekly"')[1].split('id="summer-neighbourhood"')[0]
    assert 'class="chart column-chart"' in section and "Not published yet" not in section
    assert ">812<" in html and ">57<" in html  # headline figures
    assert "25.6%" in html  # a rate shown as a percentage
    # Use cases without public tables are named, not silently left out.
    assert html.split('id="opportunity_youth"')[1].split("</section>")[0].count("Not published yet") == 1


def test_page_degrades_gracefully_without_a_public_zone(tmp_path):
    html = render_findings_page(tmp_path / "public")  # does not exist yet
    assert html.count("Not published yet") == 7
    assert "<svg" not in html


def test_parquet_wins_over_csv_and_bad_files_are_named(tmp_path):
    import polars as pl

    public = make_public_zone(tmp_path)
    pl.DataFrame({"participants": [999], "participants_suppressed": [False]}).write_parquet(
        public / "summer_engagement" / "unduplicated_participants.parquet")
    assert ">999<" in render_findings_page(public)

    (public / "young_parents").mkdir()
    (public / "young_parents" / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="young_parents/broken.parquet"):
        render_findings_page(public)


@pytest.mark.browser
def test_findings_page_renders_charts_in_headless_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian package `chromium` "
                    "(scripts/ci-system-deps.sh). The browser test does not skip.")
    from playwright.sync_api import sync_playwright

    page_path = write_findings_page(make_public_zone(tmp_path))
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            # Any request leaving the file (a CDN script, a font) would be a bug: fail it.
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                "file://") else (errors.append(f"network: {route.request.url}"), route.abort()))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")

            charts = page.locator("svg.chart")
            assert charts.count() >= 8
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box and box["width"] > 50 and box["height"] > 20, f"chart {i} has no size"
            bars = page.locator("svg.chart rect.bar:not(.suppressed)")
            assert bars.count() >= 20
            assert all(bars.nth(i).bounding_box()["width"] > 0 for i in range(bars.count()))

            hatched = page.locator("svg.chart rect.bar.suppressed")
            assert hatched.count() >= 5
            assert "url(#hatch-" in (hatched.first.get_attribute("fill") or "")
            assert page.locator("svg.chart text.value.suppressed").count() == hatched.count()
            assert page.get_by_text("attendance next school year was 4.0 points higher").is_visible()
            canton = page.locator("table.data tr", has_text="Canton")
            assert "suppressed" in canton.inner_text() and "\t0\t" not in canton.inner_text()

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "findings.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert (ARTIFACTS / "findings.png").stat().st_size > 10_000


def test_given_the_public_zone_the_page_reads_only_its_current_release(tmp_path):
    from hub_assets.disclosure.release import stage_release, switch_to

    public = tmp_path / "public"
    old = stage_release(public, "r1")
    (old / "crossover_youth").mkdir()
    (old / "crossover_youth" / "crossover_summary.csv").write_text(
        "crossover_youth,crossover_youth_suppressed\n41,false\n")
    switch_to(public, old, "r1")
    new = stage_release(public, "r2")
    for rel, text in PUBLIC_ZONE.items():
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        (new / rel).write_text(text)
    switch_to(public, new, "r2")

    html = render_findings_page(public)
    assert ">57<" in html and ">41<" not in html  # r2's crossover figure, not r1's
    assert "from 9 public tables" in html  # neither releases/ nor current/ read as a use case
    assert (public / "crossover_youth" / "crossover_summary.csv").read_text().startswith("crossover_youth,")


def test_all_rows_are_not_drawn_as_a_group(tmp_path):
    public = tmp_path / "public"
    (public / "student_homelessness").mkdir(parents=True)
    (public / "student_homelessness" / "by_school.csv").write_text(
        "school_id,students,students_suppressed\nS1,40,false\nS2,30,false\nAll,61,false\n")
    html = render_findings_page(public)
    chart = html.split('id="student_homelessness"')[1].split("<svg")[1].split("</svg>")[0]
    assert "S1" in chart and "All" not in chart
    assert ">61<" in html  # still in the data table


# The shape disclosure control actually writes: a period column, `Total` margin rows, a long
# breakdown table (dimension, group_value) and a ranked gaps table.
PRIVACY_SHAPED = {
    "summer_engagement/summer_participation_by_week.csv": (
        "summer_year,week_of_summer,participants,participants_suppressed\n"
        "2024,1,50,false\n2024,2,60,false\n"
        "2025,10,90,false\n2025,1,140,false\n2025,2,,true\n2025,3,210,false\n2025,Total,470,false\n"),
    "summer_engagement/summer_participation_by_group.csv": (
        "summer_year,dimension,group_value,participants,participants_suppressed,"
        "participation_rate,participation_rate_suppressed\n"
        "2025,sex,F,200,false,0.31,false\n2025,sex,M,170,false,0.27,false\n"
        "2025,sex,Total,380,false,0.29,false\n"
        "2025,age_band,14-17,300,false,0.33,false\n2025,age_band,18-24,,true,,true\n"),
    "summer_engagement/summer_engagement_gaps.csv": (
        "summer_year,dimension,group_value,enrolled_youth,enrolled_youth_suppressed,"
        "participation_rate,participation_rate_suppressed,rate_gap,rate_gap_suppressed,"
        "participants_short,participants_short_suppressed\n"
        "2025,neighbourhood,Canton,300,false,0.10,false,0.19,false,57,false\n"
        "2025,age_band,18-24,120,false,,true,,true,,true\n"
        "2025,race_ethnicity,WHITE,160,false,0.2,false,0.02,false,4.0,false\n"
        "2025,sex,F,600,false,0.31,false,-0.02,false,0,false\n"),
}


def test_privacy_shaped_tables_chart_the_latest_period_without_totals(tmp_path):
    public = tmp_path / "public"
    for rel, text in PRIVACY_SHAPED.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_text(text)
    html = render_findings_page(public)

    weekly = html.split('id="summer-weekly"')[1].split('id="summer-neighbourhood"')[0]
    assert "summer year 2025" in weekly
    chart = weekly.split("<svg")[1].split("</svg>")[0]
    assert chart.count('class="bar"') == 3 and chart.count('class="bar suppressed"') == 1
    assert chart.index(">3</text>") < chart.index(">10</text>")  # week 10 after week 3, as text too
    assert ">50<" not in chart and "Total" not in chart  # 2024 and the margin stay out
    gender = html.split('id="summer-gender"')[1].split('id="summer-race"')[0]
    assert "<svg" in gender and "Total:" not in gender.split("</svg>")[0]
    assert "Participation rate by gender" in gender
    gaps = html.split('id="summer-gaps"')[1].split("</section>")[0]
    gap_chart = gaps.split("<svg")[1].split("</svg>")[0]
    # Lagging groups, largest shortfall first; a group at or above the city rate is no gap.
    assert gap_chart.index("Neighbourhood: Canton") < gap_chart.index("Race/ethnicity: White")
    assert "Gender: Female" not in gap_chart
    assert "1 groups are too small to show (suppressed)" in gaps  # counted, not hidden


def test_programme_outcomes_read_as_plain_sentences(tmp_path):
    html = render_findings_page(make_public_zone(tmp_path))
    section = html.split('id="programme_outcomes"')[1].split("</section>")[0]
    assert ("Participants&#x27; attendance next school year was 4.0 points higher (95% interval 1.0 to 7.0) "
            "than similar students who did not take part.") in section.replace(
                " Compared with all students, without adjusting for who takes part, the difference would read 5.8", "")
    assert "share chronically absent next school year was 21.9 points lower" in section
    # An interval spanning zero is said to be so; dollars read as dollars.
    assert "earnings in the six months after the summer was $642 higher (95% interval -$53 to $1,031)" in section
    assert "not clearly different from no effect" in section
    assert "Too few participants to estimate the effect on attendance next school year." in section
    # By group: human words; a suppressed subgroup says so rather than showing a number.
    table = section.split("Effects by group")[1]
    assert "<td>Female</td>" in table and "Native Hawaiian/Pacific Islander" in table
    assert table.split("Native Hawaiian/Pacific Islander")[1].split("</tr>")[0].count("suppressed") >= 2
    assert "attendance_rate" not in section.split("<table")[0]


def test_subpopulations_compared_with_all_youth_in_words(tmp_path):
    html = render_findings_page(make_public_zone(tmp_path))
    section = html.split('id="subpopulations"')[1].split("</section>")[0]
    assert "Took part in a summer programme (2025)" in section
    assert ("All youth: 26%; foster youth 25%, youth experiencing homelessness 21%; "
            "1 group too small to show (suppressed).") in section
    chart = section.split("<svg")[1].split("</svg>")[0]
    assert "Foster youth" in chart and "foster_care" not in chart


def test_youth_served_by_behavioral_health_read_beside_the_other_subpopulations(tmp_path):
    """From their own table (held to a stricter threshold), in human words, each figure from the
    table that shows it; a suppressed one counts as too small to show."""
    public = make_public_zone(tmp_path)
    (public / "subpopulations" / "headline_rates_by_behavioral_health.csv").write_text(
        "measure,period,subpopulation,youth,youth_suppressed,youth_in_measure,youth_in_measure_suppressed,"
        "rate,rate_suppressed\n"
        "summer_participation,2025,all_youth,6410,false,1640,false,0.2559,false\n"
        "summer_participation,2025,behavioral_health,120,false,30,false,0.25,false\n"
        "opportunity_youth,2026Q1,behavioral_health,,true,,true,,true\n")
    section = render_findings_page(public).split('id="subpopulations"')[1].split("</section>")[0]
    assert ("All youth: 26%; youth served by public behavioural health 25%, foster youth 25%, youth experiencing "
            "homelessness 21%; 1 group too small to show (suppressed).") in section
    assert "records the law protects more strictly" in section
    chart = section.split("<svg")[1].split("</svg>")[0]
    assert "Youth served by public behavioural health" in chart and "behavioral_health" not in chart
    assert "<h3>Neither in school nor working" not in section  # measures are the other table's


def test_labels_are_words_and_tables_sort_naturally(tmp_path):
    public = tmp_path / "public"
    (public / "crossover_youth").mkdir(parents=True)
    (public / "crossover_youth" / "crossover_youth_by_group.csv").write_text(
        "dimension,group_value,crossover_youth,crossover_youth_suppressed\n"
        "age_band_at_first_contact,14-15,30,false\nage_band_at_first_contact,5-10,20,false\n"
        "age_band_at_first_contact,0-4,15,false\nrace_ethnicity,BLACK,50,false\nrace_ethnicity,WHITE,15,false\n")
    (public / "crossover_youth" / "by_week.csv").write_text(
        "week,youth,youth_suppressed\nweek 10,30,false\nweek 2,20,false\nweek 1,15,false\n")
    html = render_findings_page(public)
    assert "age_band_at_first_contact" not in html and "Age at first contact" in html
    assert "Black" in html and "BLACK" not in html
    weeks = html.split("by_week.csv")[0].split("<svg")[-1]  # the chart, then the data table
    assert weeks.index(">week 1<") < weeks.index(">week 2<") < weeks.index(">week 10<")
    table = html.split("by_week.csv")[1]
    assert table.index(">week 1<") < table.index(">week 2<") < table.index(">week 10<")
    ages = html.partition("Age at first contact")[2]
    assert ages.index("0-4") < ages.index("5-10") < ages.index("14-15")
