"""Assets of the ``linkage`` group: the trained model and the person keys (identity zone).

``linkage/model`` is retrained only when asked (weekly schedule or by hand); ``linkage/person_keys``
loads the saved model (training once if there is none) and either attaches new records to
existing people (default, when keys exist) or re-links everything (config ``mode: full``, the
nightly job). Both write to identity.duckdb, so both run in the writer pool.
"""


from typing import Literal

import dagster as dg
import polars as pl

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.linkage import operations
from hub_assets.linkage.quality import (LINK_RATE_BOUNDS, MAX_CLUSTER_SIZE, group_error_markdown,
                                       lowest_group_recall)
from hub_assets.sources.declaration import load_agencies

MODEL_KEY = dg.AssetKey(["linkage", "model"])
PERSON_KEYS_KEY = dg.AssetKey(["linkage", "person_keys"])
IDENTITY_KEYS = [dg.AssetKey(["identity", source.name]) for source in load_agencies()]
INCOMPATIBLE_SHARE_MAX = 0.01  # of multi-record people; sex/DOB noise allows a few


class LinkageConfig(dg.Config):
    mode: Literal["auto", "full", "incremental"] = "auto"


@dg.asset(key=MODEL_KEY, group_name="linkage", pool=WRITER_POOL, deps=IDENTITY_KEYS,
          description="Trained Splink model (JSON) with its match-weight, m/u, threshold and "
                      "refusals charts, and the links each refusal rule refused in the last linkage.")
def linkage_model(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
    where = operations.LinkagePaths.of(hub.paths)
    with hub.identity() as con:
        summary = operations.retrain(con, where)
    context.log.info("trained on %s records", summary["records"])
    return dg.MaterializeResult(metadata={
        "model": dg.MetadataValue.path(str(summary["model"])),
        # Charts as PNG inline in Markdown: they show in the UI with nothing fetched (charts.py).
        **{f"{name}_chart": dg.MetadataValue.md(chart.markdown())
           for name, chart in summary["charts"].items()},
        "charts_dir": dg.MetadataValue.path(str(where.reports)),
        "blocking_counts": dg.MetadataValue.path(str(summary["blocking_counts"])),
        "records": summary["records"],
        "probability_two_random_records_match": float(summary["prior"] or 0.0),
        "model_source": summary["source"],
        **_refusals(summary["refusals"]),
    })


def _refusals(summary: pl.DataFrame | None) -> dict:
    """Links each refusal rule kept out of a person in the last full re-link and the attaches
    since, with the rule's mode and anchor test (operations.refusal_summary); nothing before the
    first linkage."""
    if summary is None:
        return {}
    counts = {row["rule"]: {"refused_full": row["refused_full"], "refused_attach": row["refused_attach"],
                            "applied": row["applied"], "mode": row["mode"]}
              for row in summary.iter_rows(named=True)}
    lines = ["| rule | mode | applied | anchor pairs breaking it | refused, last full re-link | "
             "refused, attaches since |", "|---|---|---|---|---|---|"]
    for row in summary.iter_rows(named=True):
        test = f"{row['broken']:,} of {row['anchor_pairs']:,}" if row["anchor_pairs"] is not None else ""
        applied = {True: "yes", False: "no", None: "always"}[row["applied"]]
        lines.append(f"| {row['rule']} | {row['mode'] or 'reviewers'} | {applied} | {test} | "
                     f"{row['refused_full']:,} | {row['refused_attach']:,} |")
    return {"refusals": dg.MetadataValue.json(counts),
            "refused_links": int(summary["refused_full"].sum() + summary["refused_attach"].sum()),
            "refusal_rules": dg.MetadataValue.md("\n".join(lines))}


def _against_truth(quality: dict) -> dict[str, float]:
    """Cluster and pairwise precision and recall, where the data directory holds a synthetic
    city's truth (operations.ground_truth)."""
    truth = quality.get("truth") or {}
    return {f"{kind}_{measure}": truth[kind][measure]
            for kind in ("cluster", "pairwise") if kind in truth for measure in ("precision", "recall", "f1")}


def _error_by_group(quality: dict) -> dict:
    """Precision and recall by source, age band and race/ethnicity (quality.py), when truth or
    reviewed pairs give them, and the group the linkage serves worst against truth."""
    text = group_error_markdown(quality)
    lowest = lowest_group_recall(quality)
    return ({"linkage_error_by_group": dg.MetadataValue.md(text)} if text else {}) | (
        {"lowest_group_recall": lowest} if lowest else {})


CHECKS = [
    dg.AssetCheckSpec("largest_person_is_plausible", asset=PERSON_KEYS_KEY,
                      description=f"No person has more than {MAX_CLUSTER_SIZE} records."),
    dg.AssetCheckSpec("people_have_compatible_sex_and_dob", asset=PERSON_KEYS_KEY,
                      description="At most 1% of multi-record people mix sexes or DOBs a year apart."),
    dg.AssetCheckSpec("link_rate_within_bounds", asset=PERSON_KEYS_KEY,
                      description=f"Share of records linked to another is within {LINK_RATE_BOUNDS}."),
]


@dg.asset(key=PERSON_KEYS_KEY, group_name="linkage", pool=WRITER_POOL,
          deps=[*IDENTITY_KEYS, MODEL_KEY], check_specs=CHECKS,
          automation_condition=AFTER_UPSTREAM,
          description="record_token -> stable person key in identity.duckdb, with key events, "
                      "review queue and the linkage quality report.")
def person_keys(context: dg.AssetExecutionContext, config: LinkageConfig,
                hub: HubResource) -> dg.MaterializeResult:
    where = operations.LinkagePaths.of(hub.paths)
    with hub.identity() as con:
        summary = operations.link(con, where, config.mode)
    quality = summary.pop("quality")
    context.log.info("linkage %s: %s", summary["mode"], summary)
    multi = sum(v for k, v in quality["cluster_size_distribution"].items() if int(k) > 1)
    incompatible_share = quality["incompatible_clusters"] / multi if multi else 0.0
    low, high = LINK_RATE_BOUNDS
    return dg.MaterializeResult(
        metadata={**{k: v for k, v in summary.items()},
                  "people": quality["n_persons"], "link_rate": quality["link_rate"],
                  "cross_system_rate": quality["cross_system_rate"],
                  "uncertain_pairs": quality["uncertain_pairs"],
                  "predicted_count_error_2sd": quality["predicted_count_error"]["relative_error_2sd"],
                  **_against_truth(quality),
                  **_error_by_group(quality),
                  "quality_report": dg.MetadataValue.path(str(where.quality)),
                  "quality": dg.MetadataValue.md(where.quality.read_text())},
        check_results=[
            dg.AssetCheckResult(check_name="largest_person_is_plausible",
                                passed=quality["largest_cluster"] <= MAX_CLUSTER_SIZE,
                                metadata={"largest": quality["largest_cluster"]}),
            dg.AssetCheckResult(check_name="people_have_compatible_sex_and_dob",
                                passed=incompatible_share <= INCOMPATIBLE_SHARE_MAX,
                                metadata={"incompatible": quality["incompatible_clusters"],
                                          "share": incompatible_share}),
            dg.AssetCheckResult(check_name="link_rate_within_bounds",
                                passed=low <= quality["link_rate"] <= high,
                                metadata={"link_rate": quality["link_rate"]}),
        ])
