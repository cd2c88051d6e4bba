"""Precision, recall and F1 of linked pairs against an evaluation set's truth.

- pairwise: the scored pairs at or above the engine's threshold, against the true pairs;
- cluster: every pair of records put into one person, against the true pairs.
"""

from __future__ import annotations

import polars as pl


def prf(true_positive: int, predicted: int, actual: int) -> dict:
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positive": true_positive,
            "predicted": predicted, "actual": actual}


def _n_pairs(sizes: pl.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def cluster_metrics(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """``clusters``: record_id, cluster (one row per record); ``truth``: record_id, entity."""
    labelled = clusters.join(truth, on="record_id", how="inner")
    both = labelled.group_by("cluster", "entity").len()["len"]
    return prf(_n_pairs(both), _n_pairs(labelled.group_by("cluster").len()["len"]),
               _n_pairs(truth.group_by("entity").len()["len"]))


def pairwise_metrics(pairs: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """``pairs``: record_id_l, record_id_r of the links (each unordered pair once)."""
    entity = truth.select("record_id", "entity")
    joined = (pairs.join(entity.rename({"record_id": "record_id_l", "entity": "e_l"}), on="record_id_l")
              .join(entity.rename({"record_id": "record_id_r", "entity": "e_r"}), on="record_id_r"))
    true_positive = joined.filter(pl.col("e_l") == pl.col("e_r")).height
    return prf(true_positive, pairs.height, _n_pairs(truth.group_by("entity").len()["len"]))
