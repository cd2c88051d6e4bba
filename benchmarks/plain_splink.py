"""Plain Splink, no hub wrapper: the same settings and training steps on the same prepared
records, straight through Splink's API. The linkage benchmark times the hub against this.

Run: ``.venv/bin/python benchmarks/plain_splink.py PREPARED.parquet`` -> one JSON line.
"""

import json
import logging
import resource
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from splink import DuckDBAPI, Linker  # noqa: E402

from hub_assets.linkage.blocking import DETERMINISTIC_RECALL, DETERMINISTIC_RULES, TRAINING_RULES  # noqa: E402
from hub_assets.linkage.settings import MATCH_THRESHOLD, linkage_settings  # noqa: E402
from hub_assets.linkage.train import U_MAX_PAIRS  # noqa: E402


def main(prepared: Path) -> dict:
    seconds = {}
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"create table records as select * from read_parquet('{prepared}')")
    n = con.sql("select count(*) from records").fetchall()[0][0]
    linker = Linker(DuckDBAPI(con).register("records"), linkage_settings(), log_level=logging.WARNING)
    seconds["load"] = time.perf_counter() - start

    start = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(DETERMINISTIC_RULES, recall=DETERMINISTIC_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=min(U_MAX_PAIRS, max(1e5, 50.0 * n)), seed=42)
    probe = 1.0 if n < 200_000 else max(0.01, 200_000 / n)
    for rule in TRAINING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=2e6, record_sample_proportion=probe)
    seconds["train"] = time.perf_counter() - start

    start = time.perf_counter()
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    seconds["predict"] = time.perf_counter() - start
    start = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, MATCH_THRESHOLD)
    people = con.sql(f"select count(distinct cluster_id) from {clusters.physical_name}").fetchall()[0][0]
    seconds["cluster"] = time.perf_counter() - start
    return {"records": n, "people": people, "seconds": seconds, "total_seconds": sum(seconds.values()),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
