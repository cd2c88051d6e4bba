"""Profile one downstream stage of ``hub run`` on a hub that has already run: where does its time go?

Loads the definitions and the Dagster instance exactly as ``hub run`` does, then runs one stage
(linkage, person spine, use cases, public) under cProfile and prints the functions with the most
cumulative time, and the stage's Dagster events by type (each is a write to the event log).

    HUB_DATA_DIR=/path/to/data DAGSTER_HOME=/path/to/data/.dagster HUB_SECRET_KEY=... \\
        .venv/bin/python benchmarks/profile_stage.py "use cases" [--out stage.pstats] [--top 40]

The stage rebuilds its assets for real (the same as re-running ``hub run`` with no new drop).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", help="start of the stage's label: linkage, person, use, public")
    parser.add_argument("--out", type=Path, help="also write the raw profile here (pstats format)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    from hub_assets import run as hub_run

    paths = hub_run._prepare_environment(Path(os.environ["HUB_DATA_DIR"]))
    import dagster as dg

    from hub_assets.definitions import defs as load_defs

    defs, instance = load_defs(), dg.DagsterInstance.get()
    stages = dict(hub_run._downstream_stages(defs, paths))
    label = next((name for name in stages if name.startswith(args.stage)), None)
    if label is None:
        parser.error(f"no stage starts with {args.stage!r}; stages: {', '.join(stages)}")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    outcome = hub_run._execute(defs, instance, label, stages[label])
    profile.disable()
    print(f"{label}: {'ok' if outcome.ok else 'FAILED ' + outcome.error} in {time.perf_counter() - started:.1f} s "
          f"(under cProfile)")
    run = instance.get_runs(limit=1)[0]
    events = collections.Counter(e.dagster_event.event_type_value if e.dagster_event else "log"
                                 for e in instance.all_logs(run.run_id))
    print(f"{sum(events.values())} events: " + ", ".join(f"{k} {v}" for k, v in events.most_common()))
    if args.out:
        profile.dump_stats(args.out)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
