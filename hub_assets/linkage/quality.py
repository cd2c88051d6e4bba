"""How well the linkage did, every run: rates, distributions, the uncertain band, and —
when ground truth is passed in (a synthetic city's, by operations.ground_truth, a test or a
benchmark) — precision, recall and F1.

Error rates by group (source, age band, race/ethnicity), not only link rates, because linkage
error falls harder on some groups than others:
- from truth where it exists (``group_error_rates``): for the records of a group, precision is
  the share of their links (other records of the same person) that are true, recall the share
  of their true links that were made; a link between two groups counts in both;
- from labelled pairs where it does not (``group_error_rates_from_labels``: the reviewed
  sample and review decisions, evaluate.py): precision and recall at the match threshold among
  the scored pairs touching the group, with 95% intervals.

Definitions:
- a record is *linked* when its person has at least one other record; *cross-system* when
  its person has a record from another source;
- the *uncertain band* is the scored pairs with ``UNCERTAIN_LOW <= p < match threshold``;
- *pairwise* precision/recall compare the scored links (p >= threshold) with the true
  matching pairs; *cluster* precision/recall compare the pairs implied by the final people
  (every two records sharing a key) with the true pairs, so they include transitivity.
Linkage never reads truth: it is scored against only after people are formed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from hub_assets.linkage import evaluate
from hub_assets.linkage.error_model import predict_count_error
from hub_assets.linkage.predict import PAIR_FLOOR
from hub_assets.linkage.settings import MATCH_THRESHOLD

UNCERTAIN_LOW = PAIR_FLOOR  # the band starts where pairs start being stored
AGE_BANDS = [(0, 5, "0-5"), (6, 10, "6-10"), (11, 13, "11-13"), (14, 17, "14-17"),
             (18, 24, "18-24"), (25, 200, "25+")]
GROUPINGS = (("source", "source"), ("age band", "age_band"), ("race/ethnicity", "race_ethnicity"))
MAX_CLUSTER_SIZE = 30  # a person with more records than this is almost surely a false merge
LINK_RATE_BOUNDS = (0.05, 0.98)
DOB_TOLERANCE_DAYS = 366


def quality_report(records: pl.DataFrame, keys: pl.DataFrame, pairs: pl.DataFrame, *,
                   truth: pl.DataFrame | None = None, as_of: date | None = None,
                   threshold: float = MATCH_THRESHOLD, labels: pl.DataFrame | None = None) -> dict:
    """``records``: record_token, source, dob, sex, race_ethnicity; ``keys``: record_token,
    person_key; ``pairs``: unique_id_l/r, match_weight, match_probability;
    ``truth`` (optional): record_token, person_id; ``labels`` (optional, used when there is no
    truth): labelled pairs unique_id_l, unique_id_r, is_match."""
    as_of = as_of or date.today()
    people = _per_record(records, keys, as_of)
    sizes = keys.group_by("person_key").len()
    report = {
        "n_records": records.height,
        "n_persons": sizes.height,
        "link_rate": _rate(people, "linked"),
        "cross_system_rate": _rate(people, "cross_system"),
        "link_rate_by_source": _rates_by(people, "source"),
        "link_rate_by_age_band": _rates_by(people, "age_band"),
        "link_rate_by_race_ethnicity": _rates_by(people, "race_ethnicity"),
        "cluster_size_distribution": {str(k): v for k, v in sizes.group_by("len").agg(
            pl.len().alias("n")).sort("len").iter_rows()},
        "largest_cluster": int(sizes["len"].max() or 0),
        "match_weight_histogram": _weight_histogram(pairs),
        "uncertain_pairs": pairs.filter(pl.col("match_probability").is_between(
            UNCERTAIN_LOW, threshold, closed="left")).height,
        "links": pairs.filter(pl.col("match_probability") >= threshold).height,
        "incompatible_clusters": incompatible_clusters(records, keys).height,
        "threshold": threshold,
        # What linkage error does to a count of distinct people, predicted from the scores alone.
        "predicted_count_error": predict_count_error(pairs, keys, threshold).as_dict(),
    }
    if truth is not None:
        report["truth"] = truth_metrics(keys, pairs, truth, threshold)
        report["error_by_group"] = group_error_rates(people, truth)
    elif labels is not None and labels.height:
        report["error_by_group_from_labels"] = group_error_rates_from_labels(
            people, pairs, labels, threshold)
    return report


def group_error_rates(people: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """{grouping: {group: records, links, true_links, correct_links, precision, recall}} for the
    records truth covers (``people``: _per_record's frame; ``truth``: record_token, person_id)."""
    labelled = people.join(truth.select("record_token", "person_id"), on="record_token", how="inner")
    mates = labelled.with_columns(
        (pl.len().over("person_key", "person_id") - 1).alias("correct"),
        (pl.len().over("person_key") - 1).alias("made"),
        (pl.len().over("person_id") - 1).alias("true"))
    out = {}
    for title, column in GROUPINGS:
        table = mates.group_by(column).agg(pl.len().alias("records"), pl.col("made").sum(),
                                           pl.col("true").sum(), pl.col("correct").sum())
        rows = sorted(table.iter_rows(named=True), key=lambda row: _group_rank(str(row[column])))
        out[title] = {str(row[column]): {
            "records": row["records"], "links": row["made"], "true_links": row["true"],
            "correct_links": row["correct"],
            "precision": row["correct"] / row["made"] if row["made"] else None,
            "recall": row["correct"] / row["true"] if row["true"] else None}
            for row in rows}
    return out


def group_error_rates_from_labels(people: pl.DataFrame, pairs: pl.DataFrame, labels: pl.DataFrame,
                                  threshold: float = MATCH_THRESHOLD) -> dict:
    """{grouping: {group: pairs, labelled, precision(+_low/_high), recall(+_low/_high)}}: the
    estimate of evaluate.py at the threshold, over the scored pairs with a record in the group."""
    edges = tuple(sorted({*evaluate.BAND_EDGES, threshold}))
    out = {}
    for title, column in GROUPINGS:
        group_of = people.select("record_token", pl.col(column).cast(pl.String).alias("group"))
        touching = pl.concat([
            pairs.join(group_of, left_on=side, right_on="record_token")
            for side in ("unique_id_l", "unique_id_r")]).unique(["unique_id_l", "unique_id_r", "group"])
        out[title] = {}
        groups = dict(iter(touching.group_by("group")))
        for (group,) in sorted(groups, key=lambda key: _group_rank(str(key[0]))):
            members = groups[(group,)]
            mine = evaluate.ordered(members).select("unique_id_l", "unique_id_r")
            held = evaluate.ordered(labels).join(mine, on=["unique_id_l", "unique_id_r"], how="semi")
            row = evaluate.estimate(members, held, edges=edges).filter(
                pl.col("threshold") == threshold).row(0, named=True)
            out[title][str(group)] = {"pairs": members.height, "labelled": held.height,
                                      **{k: _finite(row[k]) for k in row if k.startswith(("precision", "recall"))}}
    return out


def _group_rank(group: str) -> tuple[int, str]:
    """Age bands youngest first (then "unknown"); other groups by name."""
    bands = [label for _, _, label in AGE_BANDS]
    return (bands.index(group), "") if group in bands else (len(bands), group)


def _finite(value: float) -> float | None:
    return None if value is None or value != value else value


def incompatible_clusters(records: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """People whose records disagree on sex (both M and F) or on DOB beyond tolerance."""
    joined = records.join(keys, on="record_token").with_columns(pl.col("dob").cast(pl.Date))
    per = joined.group_by("person_key").agg(
        pl.col("sex").filter(pl.col("sex").is_in(["M", "F"])).n_unique().alias("sexes"),
        (pl.col("dob").max() - pl.col("dob").min()).dt.total_days().alias("dob_spread"))
    return per.filter((pl.col("sexes") > 1) | (pl.col("dob_spread") > DOB_TOLERANCE_DAYS))


def truth_metrics(keys: pl.DataFrame, pairs: pl.DataFrame, truth: pl.DataFrame,
                  threshold: float = MATCH_THRESHOLD) -> dict:
    labelled = keys.join(truth, on="record_token", how="inner")
    true_pairs = _n_pairs(labelled.group_by("person_id").len())
    predicted = _n_pairs(labelled.group_by("person_key").len())
    both = _n_pairs(labelled.group_by("person_key", "person_id").len())
    links = pairs.filter(pl.col("match_probability") >= threshold)
    person_of = truth.select("record_token", "person_id")
    scored = (links.join(person_of, left_on="unique_id_l", right_on="record_token")
              .join(person_of, left_on="unique_id_r", right_on="record_token", suffix="_r"))
    true_links = scored.filter(pl.col("person_id") == pl.col("person_id_r")).height
    exact = _exact_clusters(labelled)
    return {
        "pairwise": _prf(true_links, scored.height, true_pairs),
        "cluster": _prf(both, predicted, true_pairs),
        "exact_cluster_precision": exact["exact"] / max(exact["predicted"], 1),
        "exact_cluster_recall": exact["exact"] / max(exact["true"], 1),
        "true_persons": exact["true"],
        "predicted_persons": exact["predicted"],
    }


def render_markdown(report: dict) -> str:
    lines = ["# Linkage quality", "",
             f"- records: {report['n_records']:,}; people: {report['n_persons']:,}",
             f"- link rate: {report['link_rate']:.3f}; cross-system: {report['cross_system_rate']:.3f}",
             f"- links at p >= {report['threshold']}: {report['links']:,}; "
             f"uncertain band ({UNCERTAIN_LOW} <= p < {report['threshold']}): {report['uncertain_pairs']:,}",
             f"- largest person: {report['largest_cluster']} records; "
             f"incompatible people (sex or DOB): {report['incompatible_clusters']}", ""]
    e = report["predicted_count_error"]
    lines += ["## Predicted error in counts of people", "",
              f"- expected people counted twice (missed links): {e['expected_overcount']:.1f} "
              f"({e['overcount_rate']:.2%}); expected people hidden in another (false links): "
              f"{e['expected_undercount']:.1f} ({e['undercount_rate']:.2%})",
              f"- a published count of distinct people is within {e['relative_error_2sd']:.2%} of the truth "
              "(two standard deviations; see docs/linkage.md, \"Predicted error in counts\")", ""]
    if "truth" in report:
        t = report["truth"]
        lines += ["## Against ground truth", "", "| measure | precision | recall | F1 |",
                  "|---|---|---|---|"]
        for name in ("pairwise", "cluster"):
            m = t[name]
            lines.append(f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} |")
        lines.append("")
    lines += _group_error_lines(report)
    for title, key in (("source", "link_rate_by_source"), ("age band", "link_rate_by_age_band"),
                       ("race/ethnicity", "link_rate_by_race_ethnicity")):
        lines += [f"## Link rate by {title}", "", "| group | records | linked | cross-system |",
                  "|---|---|---|---|"]
        for group, row in report[key].items():
            lines.append(f"| {group} | {row['records']:,} | {row['linked']:.3f} | {row['cross_system']:.3f} |")
        lines.append("")
    lines += ["## People by number of records", "", "| records | people |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" for k, v in report["cluster_size_distribution"].items()]
    lines += ["", "## Match weights of scored pairs", "", "| weight bin | pairs |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" for k, v in report["match_weight_histogram"].items()]
    return "\n".join(lines) + "\n"


def group_error_markdown(report: dict) -> str:
    """The error-by-group sections of the report alone (empty without truth or labels)."""
    return "\n".join(_group_error_lines(report))


def lowest_group_recall(report: dict) -> str | None:
    """The group whose true links were made least often, against truth: "<grouping> <group>:
    <recall>" (groups with fewer than 20 true links are too small to rank)."""
    rated = [(row["recall"], title, group) for title, groups in report.get("error_by_group", {}).items()
             for group, row in groups.items() if row["recall"] is not None and row["true_links"] >= 20]
    if not rated:
        return None
    recall, title, group = min(rated)
    return f"{title} {group}: {recall:.4f}"


def _group_error_lines(report: dict) -> list[str]:
    def rate(value, low=None, high=None) -> str:
        if value is None:
            return "n/a"
        return f"{value:.4f}" if low is None else f"{value:.4f} ({low:.4f}-{high:.4f})"

    lines = []
    if "error_by_group" in report:
        lines += ["## Linkage error by group (against ground truth)", "",
                  "For the records of each group: precision is the share of their links that are "
                  "true, recall the share of their true links that were made.", ""]
        for title, groups in report["error_by_group"].items():
            lines += [f"| {title} | records | true links | links made | precision | recall |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {g} | {r['records']:,} | {r['true_links']:,} | {r['links']:,} | "
                      f"{rate(r['precision'])} | {rate(r['recall'])} |" for g, r in groups.items()]
            lines.append("")
    if "error_by_group_from_labels" in report:
        lines += ["## Linkage error by group (estimated from reviewed pairs)", "",
                  f"At p >= {report['threshold']}, over the scored pairs with a record in the group; "
                  "95% intervals; recall is among the scored pairs (`hub evaluate`, docs/linkage.md).", ""]
        for title, groups in report["error_by_group_from_labels"].items():
            lines += [f"| {title} | scored pairs | labelled | precision | recall |", "|---|---|---|---|---|"]
            lines += [f"| {g} | {r['pairs']:,} | {r['labelled']:,} | "
                      f"{rate(r['precision'], r['precision_low'], r['precision_high'])} | "
                      f"{rate(r['recall'], r['recall_low'], r['recall_high'])} |" for g, r in groups.items()]
            lines.append("")
    return lines


def write_report(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report))
    return path


def _per_record(records: pl.DataFrame, keys: pl.DataFrame, as_of: date) -> pl.DataFrame:
    joined = records.join(keys, on="record_token", how="left")
    dob = pl.col("dob").cast(pl.Date)
    age = (pl.lit(as_of).dt.year() - dob.dt.year()
           - ((pl.lit(as_of).dt.ordinal_day() < dob.dt.ordinal_day()).cast(pl.Int32)))
    band = pl.lit("unknown")
    for low, high, label in reversed(AGE_BANDS):
        band = pl.when(age.is_between(low, high)).then(pl.lit(label)).otherwise(band)
    return joined.with_columns(
        (pl.len().over("person_key") > 1).alias("linked"),
        (pl.col("source").n_unique().over("person_key") > 1).alias("cross_system"),
        band.alias("age_band"),
        pl.col("race_ethnicity").fill_null("UNKNOWN"))


def _rate(people: pl.DataFrame, column: str) -> float:
    return float(people[column].mean()) if people.height else 0.0


def _rates_by(people: pl.DataFrame, group: str) -> dict:
    table = people.group_by(group).agg(pl.len().alias("records"), pl.col("linked").mean(),
                                       pl.col("cross_system").mean()).sort(group)
    return {str(row[group]): {"records": row["records"], "linked": row["linked"],
                              "cross_system": row["cross_system"]} for row in table.iter_rows(named=True)}


def _weight_histogram(pairs: pl.DataFrame, width: int = 2) -> dict:
    if pairs.height == 0:
        return {}
    bins = pairs.select((pl.col("match_weight") / width).floor().cast(pl.Int64) * width)
    counts = bins.group_by("match_weight").len().sort("match_weight")
    return {f"[{lo}, {lo + width})": n for lo, n in counts.iter_rows()}


def _n_pairs(counts: pl.DataFrame) -> int:
    return int((counts["len"] * (counts["len"] - 1) // 2).sum())


def _prf(true_positive: int, predicted: int, actual: int) -> dict:
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positive": true_positive,
            "predicted": predicted, "actual": actual}


def _exact_clusters(labelled: pl.DataFrame) -> dict:
    def members(by: str) -> pl.DataFrame:
        return labelled.group_by(by).agg(pl.col("record_token").sort().str.join(",").alias("m"))

    predicted, actual = members("person_key"), members("person_id")
    exact = predicted.join(actual, on="m", how="inner").height
    return {"exact": exact, "predicted": predicted.height, "true": actual.height}
