"""Right answers for programme outcomes: on a synthetic city with planted programme effects and
planted selection into programmes, the published estimate's 95% interval contains the effect
the city planted, and the naive participants-versus-everyone difference's interval does not.

The city (15,000 youth) is generated here and built with ``hub run`` in a subprocess, exactly as
users run it; the bundled fixture city is too small for programme estimates (most groups have
fewer than 20 participants and are left unestimated). The truth side is
``truth/programme_effects.csv``: for each programme and outcome, the effect realised among the
participants the hub compares (each participant's outcome with and without the programme, drawn
with the same noise; ``hub_assets/synth/outcomes.py``). The pipeline never reads it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from hub_assets.synth import generate_city

from .conftest import run_hub_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("programme_outcomes_build")]

PERSONS, SEED = 15_000, 11
PROGRAMMES = ["youthworks", "summer_programmes", "family_league"]


@pytest.fixture(scope="module")
def outcomes_hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, int]:
    root = tmp_path_factory.mktemp("programme_outcomes")
    generate_city(PERSONS, SEED, root / "city")
    data_dir = root / "data"
    shutil.copytree(root / "city" / "landing", data_dir / "landing")
    done = run_hub_cli(data_dir)
    return data_dir, root / "city" / "truth", done.stdout + done.stderr, done.returncode


@pytest.fixture(scope="module")
def estimates(outcomes_hub) -> pl.DataFrame:
    data_dir, _, output, returncode = outcomes_hub
    assert returncode == 0, output[-3000:]
    published = pl.read_csv(data_dir / "public" / "programme_outcomes" / "programme_outcome_estimates.csv")
    return published.filter((pl.col("dimension") == "all") & (pl.col("group_value") == "all"))


@pytest.fixture(scope="module")
def truth(outcomes_hub) -> pl.DataFrame:
    return pl.read_csv(outcomes_hub[1] / "programme_effects.csv")


def _pair(estimates: pl.DataFrame, truth: pl.DataFrame, programme: str, outcome: str) -> tuple[dict, float]:
    row = estimates.filter((pl.col("programme") == programme) & (pl.col("outcome") == outcome)).to_dicts()
    assert len(row) == 1, f"no published estimate of {programme} on {outcome}"
    planted = truth.filter((pl.col("programme") == programme) & (pl.col("outcome") == outcome))["realised_effect"][0]
    # Rates are published in points (0-100); the truth is a difference of proportions.
    return row[0], planted * 100


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_the_estimate_recovers_the_planted_attendance_effect_and_the_naive_difference_does_not(
        estimates, truth, programme):
    row, planted = _pair(estimates, truth, programme, "attendance_rate")
    assert row["effect_lower"] <= planted <= row["effect_upper"], (row, planted)
    # Participants were selected on better prior attendance: the unadjusted difference overstates.
    assert not row["naive_lower"] <= planted <= row["naive_upper"], (row, planted)
    assert row["naive_difference"] > row["effect_upper"]


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_the_estimate_recovers_the_planted_effect_on_chronic_absence(estimates, truth, programme):
    row, planted = _pair(estimates, truth, programme, "chronic_absence")
    assert row["effect_lower"] <= planted <= row["effect_upper"], (row, planted)
    # A yes/no outcome's raw shares are counts of people: not published (hub_assets/outcomes/estimate.py).
    assert row["naive_difference"] is None and row["participant_mean"] is None, row


@pytest.mark.parametrize("outcome", ["employed", "earnings"])
def test_the_youthworks_estimate_recovers_the_planted_effect_on_work(estimates, truth, outcome):
    row, planted = _pair(estimates, truth, "youthworks", outcome)
    planted = planted / 100 if outcome == "earnings" else planted  # earnings are dollars, not a rate
    assert row["effect_lower"] <= planted <= row["effect_upper"], (row, planted)
    assert row["effect_lower"] > 0  # a real effect, found


def test_no_estimate_rests_on_a_suppressed_count(outcomes_hub):
    published = pl.read_csv(outcomes_hub[0] / "public" / "programme_outcomes" / "programme_outcome_estimates.csv")
    hidden = published.filter(pl.col("participants_suppressed") | pl.col("youth_compared_suppressed"))
    assert hidden.height > 0  # small subgroups exist in this city
    assert hidden["effect"].is_null().all() and hidden["effect_lower"].is_null().all()
