"""Score the blocked record pairs with the trained model.

Only pairs at or above ``PAIR_FLOOR`` are kept: lower pairs never link, but the band from the
floor to the match threshold is what the quality report calls uncertain.
"""

from __future__ import annotations

import polars as pl
from splink import Linker

PAIR_FLOOR = 0.5
PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]


def predict_pairs(linker: Linker, floor: float = PAIR_FLOOR):
    """Scored pairs as a SplinkDataFrame (kept in the linker's DuckDB for clustering)."""
    return linker.inference.predict(threshold_match_probability=floor, warning_mode="never")


def pairs_frame(pairs) -> pl.DataFrame:
    """record_token pairs with weight and probability (identity zone only)."""
    cols = ", ".join(PAIR_COLUMNS)
    return pairs.db_api.duckdb_con.sql(
        f"select {cols} from {pairs.physical_name}").pl()
