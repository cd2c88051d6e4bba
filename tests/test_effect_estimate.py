"""The programme-effect estimator (``hub_assets.outcomes.estimate``) on small synthetic frames,
fitted for real with statsmodels: it finds a planted effect, and for a yes/no outcome it returns
no figure that is a share of a group of people."""

from __future__ import annotations

import random

import pytest

from hub_assets.outcomes.estimate import COUNT_SHARES, estimate


def _rows(outcome, n: int = 400, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prior = rng.uniform(70, 100)
        participant = rng.random() < (0.15 + 0.4 * (prior - 70) / 30)  # better attenders take part more
        rows.append({"participant": participant, "outcome": outcome(rng, prior, participant), "age": 12 + i % 6,
                     "age_band": "11-13" if i % 6 < 2 else "14-17", "sex": "F" if i % 2 else "M",
                     "race_ethnicity": "BLACK" if i % 3 else "WHITE", "neighbourhood": f"N{i % 4}",
                     "prior_attendance": prior, "system_involved": i % 7 == 0})
    return rows


def _everyone(results: list[dict]) -> dict:
    return next(r for r in results if r["dimension"] == "all")


def test_a_planted_attendance_effect_is_inside_the_interval_and_the_naive_difference_overstates_it():
    results = estimate(_rows(lambda rng, prior, took_part: min(100.0, prior + 3.0 * took_part + rng.gauss(0, 2))))
    everyone = _everyone(results)
    assert everyone["lower"] <= 3.0 <= everyone["upper"]
    assert everyone["naive_difference"] > everyone["upper"]  # participants were better attenders already
    assert everyone["participant_mean"] is not None


def test_a_yes_no_outcome_publishes_no_share_of_people_but_keeps_the_adjusted_effect():
    results = estimate(_rows(lambda rng, prior, took_part: 100.0 * (rng.random() < 0.2 - 0.1 * took_part)))
    assert {r["dimension"] for r in results} >= {"all", "sex", "age_band"}
    for row in results:
        assert all(row[k] is None for k in COUNT_SHARES), row
    everyone = _everyone(results)
    assert everyone["estimate"] is not None and everyone["lower"] < everyone["upper"]
    assert everyone["comparison_mean"] is not None  # weighted by fitted propensities: not a count's share


@pytest.mark.parametrize("values", [(0.0, 100.0), (0.0, 50.0, 100.0)])
def test_only_an_outcome_of_zeros_and_hundreds_is_read_as_yes_no(values):
    results = estimate(_rows(lambda rng, prior, took_part: rng.choice(values)))
    yes_no = set(values) <= {0.0, 100.0}
    assert (_everyone(results)["participant_mean"] is None) == yes_no
