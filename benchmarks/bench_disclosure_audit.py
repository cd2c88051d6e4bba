"""Benchmark: the attacker audit on a built hub, against every public table at once.

Figures per city:
- ``per_table_exact``: each mart published on its own with exact counts (per-table suppression
  only), attacked jointly: what a reader could recover without joint protection and rounding;
- ``published``: the public tables ``hub run`` released (and the release before, where kept),
  attacked jointly: what the blocking check sees;
- ``protected``: every mart protected together from the marts with the code and settings of now,
  as the release step does (all rounds), then attacked jointly; its time is ``protect_seconds``.

Works on a copy of the warehouse (never locks or changes the original). Writes
``benchmarks/results/disclosure_audit.json`` and ``.md``, one entry per ``--label``.
Run: ``.venv/bin/python benchmarks/bench_disclosure_audit.py --data-dir /path/to/built/hub --label NAME``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
KEYS = ("audit_ok", "audit_tables", "audit_previous_tables", "audit_suppressed_cells", "audit_exactly_determined",
        "audit_narrower_than_protection_width", "audit_failures", "audit_narrowest_interval",
        "audit_changes_compared", "audit_lp_solves", "audit_intervals_wide_by_witness", "audit_seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()

    from hub_assets.dbt.manifest import load_manifest, published_marts
    from hub_assets.disclosure.protect import protect_with_audit
    from hub_assets.disclosure.release import load_release_before_current
    from hub_assets.disclosure.release_audit import audit_tables
    from hub_assets.disclosure.suppression import disclosure_settings, publish

    started_load = os.getloadavg()[0]  # the machine may be shared: times grow with its load
    settings = disclosure_settings()
    threshold = settings.min_cell_size
    marts = published_marts(load_manifest())
    work = Path(tempfile.mkdtemp(prefix="bench_disclosure_"))
    shutil.copy(args.data_dir / "warehouse.duckdb", work / "warehouse.duckdb")
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        cells = [(m, pl.from_arrow(con.sql(f'select * from "{m.schema}"."{m.relation}"').to_arrow_table()))
                 for m in marts]
    shutil.rmtree(work)

    exact = {m.name: (m, publish(c, m.spec, threshold, m.name)) for m, c in cells}
    per_table_exact = audit_tables(exact, {}, threshold, 1, settings.protection_width)

    public = args.data_dir / "public"
    published = {m.name: (m, pl.read_parquet(public / m.use_case / f"{m.name}.parquet")) for m in marts}
    previous = {n: (published[n][0], t) for n, t in load_release_before_current(public).items() if n in published}
    released = audit_tables(published, previous, threshold, settings.rounding_base, settings.protection_width)

    started = time.perf_counter()
    tables, protection = protect_with_audit(cells, threshold, {})
    protect = {"seconds": round(time.perf_counter() - started, 2), "rounds": protection.rounds,
               "suppressed_cells": len(protection.suppressed), "lp_solves": protection.solves}
    protected = audit_tables({m.name: (m, tables[m.name]) for m, _ in cells}, {}, threshold,
                             settings.rounding_base, settings.protection_width)

    entry = {"label": args.label, "at": datetime.now(UTC).isoformat(timespec="seconds"),
             "load_average_1min": [round(load, 1) for load in (started_load, os.getloadavg()[0])],
             "data_dir": str(args.data_dir), "min_cell_size": threshold, "rounding_base": settings.rounding_base,
             "protection_width": settings.protection_width,
             "per_table_exact": {k: per_table_exact.metadata()[k] for k in KEYS},
             "per_table_exact_first_failures": per_table_exact.failures[:10],
             "published": {k: released.metadata()[k] for k in KEYS},
             "published_failures": released.failures[:10],
             "protected": {k: protected.metadata()[k] for k in KEYS}, "protected_failures": protected.failures[:10],
             "protect": protect, "protect_seconds": protect["seconds"]}
    write(entry)
    print(json.dumps({k: entry[k] for k in ("label", "per_table_exact", "published", "protected", "protect_seconds")},
                     indent=2))


def write(entry: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "disclosure_audit.json"
    entries = json.loads(path.read_text()) if path.exists() else []
    entries = [e for e in entries if e["label"] != entry["label"]] + [entry]
    path.write_text(json.dumps(entries, indent=2))
    lines = [
        "# Attacker audit over every public table",
        "",
        "| city | run at | attacked | suppressed cells | exactly determined | narrower than width | "
        "narrowest interval | changes compared | LP solves | audit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        for what in ("per_table_exact", "published", "protected"):
            f = e.get(what)
            if f is None:  # an entry from before the protected figures were recorded
                continue
            lines.append(
                f"| {e['label']} | {e['at']} | {what.replace('_', ' ')} | {f['audit_suppressed_cells']} | "
                f"{f['audit_exactly_determined']} | {f['audit_narrower_than_protection_width']} | "
                f"{f['audit_narrowest_interval']} | {f['audit_changes_compared']} | {f['audit_lp_solves']} | "
                f"{f['audit_seconds']} |"
            )
    lines += [
        "",
        "per table exact: each mart published on its own, exact counts, attacked jointly. published: the "
        "released tables (rounded, protected together) and the release before, attacked jointly, as "
        "`hub run` published them (with the code of its day). protected: every mart protected together "
        "now, as the release step does, and attacked jointly. "
        "Protection time per city (every table together, all rounds, from the marts): "
        + ", ".join(f"{e['label']} {e['protect_seconds']} s" for e in entries)
        + ". Machine load (1-minute load "
        "average at start and end, 2 cores): "
        + ", ".join(f"{e['label']} {e['load_average_1min']}" for e in entries if "load_average_1min" in e)
        + ".",
        "",
        "Command: `.venv/bin/python benchmarks/bench_disclosure_audit.py --data-dir DIR --label NAME` "
        "on a data directory `hub run` built.",
    ]
    (RESULTS / "disclosure_audit.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
