"""Benchmark: the privacy layer on a built hub — suppression and disclosure checks of every published
mart, the identifier scan of the whole warehouse, the analyst export, governance refusals.

Works on a copy of the hub's two stores (never locks or changes the original).
Writes ``benchmarks/results/privacy.json``.
Run: ``.venv/bin/python benchmarks/bench_privacy.py --data-dir /path/to/built/hub``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("HUB_DATA_DIR", "data")))
    args = parser.parse_args()

    from hub_assets.dbt.manifest import load_manifest, published_marts
    from hub_assets.disclosure.suppression import min_cell_size, publish
    from hub_assets.disclosure.table_checks import recoverable_suppressed, small_counts_visible, too_finely_grouped
    from hub_assets.governance.agreements import load_governance, refusals
    from hub_assets.governance.analyst_export import export_analyst
    from hub_assets.identifier_scan.scan import scan_database

    work = Path(tempfile.mkdtemp(prefix="bench_privacy_"))
    for name in ("warehouse.duckdb", "identity.duckdb"):
        shutil.copy(args.data_dir / name, work / name)
    manifest, governance, threshold = load_manifest(), load_governance(), min_cell_size()
    results: dict = {"data_dir": str(args.data_dir), "min_cell_size": threshold, "marts": []}

    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    for mart in published_marts(manifest):
        cells = pl.from_arrow(con.sql(f'select * from "{mart.schema}"."{mart.relation}"').to_arrow_table())
        started = time.perf_counter()
        table = publish(cells, mart.spec, threshold, mart.name)
        publish_s = time.perf_counter() - started
        started = time.perf_counter()
        problems = (small_counts_visible(table, mart.spec, threshold) + recoverable_suppressed(table, mart.spec)
                    + too_finely_grouped(table, mart.spec, threshold))
        flags = [c for c in table.columns if c.endswith("_suppressed")]
        results["marts"].append({
            "mart": mart.name, "use_case": mart.use_case, "cells": cells.height, "published_rows": table.height,
            "count_cells": table.height * len(mart.spec.counts),
            "suppressed_cells": int(sum(table[c].sum() for c in flags)),
            "publish_seconds": round(publish_s, 3), "check_seconds": round(time.perf_counter() - started, 3),
            "check_problems": len(problems)})
    con.close()

    started = time.perf_counter()
    hits = scan_database(work / "warehouse.duckdb", work / "identity.duckdb")
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        n_tables = con.execute("select count(*) from information_schema.tables").fetchone()[0]
    results["identifier_scan"] = {"tables": n_tables, "seconds": round(time.perf_counter() - started, 2),
                                  "hits": [str(h) for h in hits]}

    started = time.perf_counter()
    export = export_analyst(work / "warehouse.duckdb", work / "analyst.duckdb", governance)
    export_s = time.perf_counter() - started
    export_hits = scan_database(export.out, work / "identity.duckdb")
    results["analyst_export"] = {"tables": len(export.tables), "dropped_token_columns": len(export.dropped_columns),
                                 "bytes": export.out.stat().st_size, "seconds": round(export_s, 2),
                                 "identifier_hits": len(export_hits)}
    results["governance_refusals"] = {uc: refusals(governance, manifest, uc) for uc in sorted(governance.agreements)}

    out = ROOT / "benchmarks" / "results" / "privacy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    shutil.rmtree(work)
    total = sum(m["suppressed_cells"] for m in results["marts"])
    print(f"{len(results['marts'])} marts, {total} cells suppressed, "
          f"{sum(m['check_problems'] for m in results['marts'])} check problems; "
          f"scan {results['identifier_scan']['seconds']}s over {n_tables} tables, {len(hits)} hits; "
          f"export {results['analyst_export']['seconds']}s -> {out}")


if __name__ == "__main__":
    main()
