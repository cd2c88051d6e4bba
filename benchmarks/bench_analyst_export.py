"""How much the analyst export must generalise to meet k, per agreement, on a built hub.

For each agreement in ``governance.yaml``: the share of its people unique on the raw
quasi-identifiers (birth year-month, sex, race/ethnicity, neighbourhood) in the spine, then the
export's levels, its smallest class, the people suppressed and the tables it carries, with the
export's wall time. Writes ``benchmarks/results/analyst_export.md``.

    HUB_DATA_DIR=/path/to/built/data .venv/bin/python benchmarks/bench_analyst_export.py [LABEL]

LABEL says what the data directory was built from (e.g. "the fixture city").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub_assets.governance.agreements import load_governance  # noqa: E402
from hub_assets.governance.analyst_export import export_for_analysts  # noqa: E402
from hub_assets.settings import data_dir  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "analyst_export.md"


def unique_share(warehouse: Path, people: list[str]) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = con.sql("select birth_year, birth_month, sex, race_ethnicity, neighbourhood from spine.person_spine "
                      "where person_key in (select unnest(?))", params=[people]).pl()
    sizes = raw.group_by(raw.columns).len()
    return sizes.filter(sizes["len"] == 1).height / max(raw.height, 1)


def main() -> None:
    root = data_dir()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        spine_people = con.execute("select count(*) from spine.person_spine").fetchone()[0]
    label = sys.argv[1] if len(sys.argv) > 1 else "a built hub"
    lines = [f"# Analyst export: generalisation needed for k, per agreement ({started})", "",
             f"Data: {label}, {spine_people:,} people in the spine. Command: `HUB_DATA_DIR=... "
             f".venv/bin/python benchmarks/bench_analyst_export.py '{label}'`. \"unique on raw QIs\": share "
             "of the agreement's people alone in their (birth year-month, sex, race/ethnicity, neighbourhood) "
             "class before generalisation.", "",
             "| agreement | people | unique on raw QIs | k | levels (birth / area / race / sex) | smallest class "
             "| suppressed | tables | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for agreement in load_governance().agreements.values():
            out = Path(tmp) / f"{agreement.id}.duckdb"
            t0 = time.perf_counter()
            summary, hits = export_for_analysts(root, out, agreement.id, "benchmark of the export's generalisation")
            seconds = time.perf_counter() - t0
            if hits:
                raise SystemExit(f"{agreement.id}: the export held identifiers: {hits[:3]}")
            report = json.loads(summary.report.read_text())
            with duckdb.connect(str(out), read_only=True) as con:
                people = [r[0] for r in con.execute("select person_key from spine.person_spine").fetchall()]
            levels = report["levels"]
            lines.append(
                f"| {agreement.id} | {report['people']:,} | {unique_share(root / 'warehouse.duckdb', people):.1%} "
                f"| {report['k']} | {levels['birth_period']} / {levels['area']} / {levels['race_ethnicity']} / "
                f"{levels['sex']} | {report['smallest_class']} | {report['suppressed_people']} "
                f"| {len(report['tables'])} | {seconds:.1f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    os.environ.setdefault("HUB_DATA_DIR", "data")
    main()
