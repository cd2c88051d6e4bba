"""The effect of taking part in a programme, from participants and similar non-participants.

Method: inverse-propensity weighting with regression adjustment (IPWRA, "doubly robust"), for
the average effect on participants (ATT):

1. A logistic propensity model (statsmodels ``GLM``, binomial family) of taking part on age,
   sex, race/ethnicity, neighbourhood, the prior school year's attendance rate and system
   involvement. Neighbourhoods with fewer than ``MIN_NEIGHBOURHOOD`` youth in the comparison are
   pooled as "other"; propensities are clipped to [0.01, 0.99].
2. Weights: 1 for participants, p / (1 - p) for non-participants, so the comparison group looks
   like the participants on those characteristics.
3. A weighted least-squares regression (statsmodels ``WLS``) of the outcome on taking part, prior
   attendance, system involvement and age. The coefficient on taking part is the estimate; its
   95% confidence interval uses heteroskedasticity-robust (HC1) standard errors.

For a subgroup (girls, youth in foster care ...) the weights of step 2 are kept and step 3 is
run within the subgroup: the effect on that subgroup's participants.

The estimate is consistent if either the propensity model or the outcome regression is right.
It assumes no unmeasured confounding: youth who took part differ from the weighted comparison
only by chance and by the programme. Groups with fewer than ``MIN_GROUP`` participants or
non-participants get no estimate.

The naive difference (participants' mean minus the mean of every youth in the comparison
population, participants included), with its own 95% interval, is returned beside it: it is what
the data say without adjustment.

For a yes/no outcome (every value 0 or 100: chronic absence, enrolment, work) the participants'
mean and the naive difference are not returned. They are shares of groups of people: 7.69 among
about 25 participants is 2 of 26, which names a count of 2 and undoes the rounding of the
published participants. The adjusted estimate, its interval and the weighted comparison mean rest
on fitted propensities and a regression, not on a count, and are returned.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

MIN_GROUP = 20
MIN_NEIGHBOURHOOD = 30
CLIP = 0.01
FIELDS = ("participant", "outcome", "age", "age_band", "sex", "race_ethnicity", "neighbourhood", "prior_attendance",
          "system_involved")
# Subgroups estimated beside the whole: (dimension, column); 'all' is everyone.
SUBGROUPS = (("sex", "sex"), ("race_ethnicity", "race_ethnicity"), ("age_band", "age_band"),
             ("system_involvement", "system_involvement"))
RESULT = ("estimate", "lower", "upper", "naive_difference", "naive_lower", "naive_upper", "participant_mean",
          "comparison_mean")


def _empty() -> dict:
    return dict.fromkeys(RESULT)


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(FIELDS)).dropna(subset=["outcome", "prior_attendance", "age"])
    df["participant"] = df["participant"].astype(int)
    df["system_involved"] = df["system_involved"].fillna(False).astype(int)
    df["system_involvement"] = np.where(df["system_involved"] == 1, "involved", "not_involved")
    for col in ("sex", "race_ethnicity", "neighbourhood", "age_band"):
        df[col] = df[col].fillna("unknown").astype(str)
    small = df.loc[df["participant"] == 0, "neighbourhood"].value_counts()
    keep = set(small[small >= MIN_NEIGHBOURHOOD].index)
    df["neighbourhood"] = df["neighbourhood"].where(df["neighbourhood"].isin(keep), "other")
    return df


def _propensity(df: pd.DataFrame) -> np.ndarray:
    """Fitted propensities; covariates with one value in this group are left out."""
    terms = [t for t in ("age", "prior_attendance", "system_involved") if df[t].nunique() > 1]
    terms += [f"C({c})" for c in ("sex", "race_ethnicity", "neighbourhood") if df[c].nunique() > 1]
    for attempt in (terms, [t for t in terms if "neighbourhood" not in t]):
        formula = "participant ~ " + (" + ".join(attempt) or "1")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = smf.glm(formula, data=df, family=sm.families.Binomial()).fit()
            p = np.asarray(fit.predict(df), dtype=float)
            if np.isfinite(p).all():
                return np.clip(p, CLIP, 1 - CLIP)
        except (np.linalg.LinAlgError, ValueError):
            continue
    share = df["participant"].mean()
    return np.full(len(df), share)


SHARE_VALUES = (0.0, 100.0)  # a yes/no outcome, in points
COUNT_SHARES = ("naive_difference", "naive_lower", "naive_upper", "participant_mean")


def _effect(df: pd.DataFrame, yes_no: bool = False) -> dict:
    """Step 3 and the naive difference on one group of the weighted frame (without the figures
    that are shares of people when the outcome is yes/no)."""
    treated, control = df[df["participant"] == 1], df[df["participant"] == 0]
    if len(treated) < MIN_GROUP or len(control) < MIN_GROUP:
        return _empty()
    terms = ["participant"] + [t for t in ("prior_attendance", "system_involved", "age") if df[t].nunique() > 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.wls("outcome ~ " + " + ".join(terms), data=df, weights=df["weight"]).fit(cov_type="HC1")
    lower, upper = fit.conf_int(alpha=0.05).loc["participant"]
    naive = treated["outcome"].mean() - df["outcome"].mean()
    se = np.sqrt(treated["outcome"].var(ddof=1) / len(treated) + df["outcome"].var(ddof=1) / len(df))
    weights = df.loc[control.index, "weight"]
    comparison = np.average(control["outcome"], weights=weights) if weights.sum() > 0 else None
    out = {"estimate": fit.params["participant"], "lower": lower, "upper": upper, "naive_difference": naive,
           "naive_lower": naive - 1.959964 * se, "naive_upper": naive + 1.959964 * se,
           "participant_mean": treated["outcome"].mean(), "comparison_mean": comparison}
    return {k: (None if v is None or not np.isfinite(v) or (yes_no and k in COUNT_SHARES) else float(v))
            for k, v in out.items()}


def estimate(rows: list[dict]) -> list[dict]:
    """The IPWRA effect on participants, its 95% interval and the naive difference, for everyone
    (dimension 'all') and each subgroup: one dict per (dimension, group_value)."""
    if not rows:
        return []
    df = _frame(rows)
    yes_no = bool(df["outcome"].isin(SHARE_VALUES).all())
    # One BLAS thread: the fits are small, and on a busy machine threads only contend.
    with threadpool_limits(limits=1):
        p = _propensity(df) if df["participant"].nunique() > 1 else np.full(len(df), CLIP)
        df["weight"] = np.where(df["participant"] == 1, 1.0, p / (1 - p))
        out = [{"dimension": "all", "group_value": "all", **_effect(df, yes_no)}]
        for dimension, column in SUBGROUPS:
            for value, group in df.groupby(column, sort=True):
                out.append({"dimension": dimension, "group_value": str(value), **_effect(group, yes_no)})
    return out
