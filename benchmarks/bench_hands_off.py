"""The hands-off path, measured: a drop copied into landing, until the release is complete.

Nothing is driven by hand. The benchmark starts what production runs, on loopback:

- a code server (``dagster api grpc``) serving ``hub_assets.definitions``;
- ``dagster-daemon`` (sensors, automation, run queue, run monitoring) and ``dagster-webserver``,
  both reading the code server through a ``grpc_server`` workspace;
- the shipped embedded instance (``deploy/dagster.yaml``) in ``$HUB_DATA_DIR/.dagster``.

Steps:
1. ``hub run`` builds the hub on the bundled city (or a ``hub synth`` city, ``--persons``) with
   one drop held back (the newest Summer Funding roster by default);
2. the three processes start; the benchmark waits until every sensor has ticked once (the first
   tick of an automation sensor only takes stock);
3. the held-back file is copied into ``landing/<agency>/`` (t0); the benchmark watches the
   instance until the findings page (``public/findings_report``) has been materialised after every
   other public table the drop changed, and no run is queued or in progress for a settling
   window (so nothing is still on its way);
4. it reports the time from t0 to that findings page and each stage's share: waits for a sensor
   or the queue, and each run's execution, classified by the assets the run materialised.

Writes ``benchmarks/results/hands_off.json`` and ``.md`` (``--label`` names the record).
Usage: ``python benchmarks/bench_hands_off.py [--persons N] [--label NAME]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from hub_assets.settings import FIXTURE_CITY_DIR  # noqa: E402

SECRET = "hands-off-benchmark-key"
HELD_BACK = ("summer_funding", "sfc_roster_2026_b.csv")
FINDINGS = "public/findings_report"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_city(data: Path, persons: int | None) -> Path:
    """A landing zone with one drop held back; returns the held-back file."""
    if persons:
        subprocess.run([str(ROOT / ".venv/bin/hub"), "synth", "--persons", str(persons), "--out",
                        str(data)], check=True, capture_output=True)
        agency_dir = data / "landing" / HELD_BACK[0]
        held = sorted(agency_dir.iterdir())[-1]
    else:
        shutil.copytree(FIXTURE_CITY_DIR / "landing", data / "landing")
        held = data / "landing" / HELD_BACK[0] / HELD_BACK[1]
    kept = data.parent / held.name
    shutil.move(held, kept)
    return kept


def stage_of(keys: list[str]) -> str:
    roots = {k.split("/")[0] for k in keys}
    if roots & {"raw", "identity"}:
        return "ingest"
    if "public" in roots and roots & {"linkage", "spine", "staging", "intermediate", "marts"}:
        return "build and release"
    if "public" in roots:
        return "release"
    if roots & {"linkage", "spine", "staging", "intermediate", "marts"}:
        return "warehouse"
    return "other (" + ", ".join(sorted(roots)) + ")"


def wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=None, help="hub synth city instead of the bundled one")
    parser.add_argument("--label", default="bundled city")
    parser.add_argument("--settle", type=float, default=45.0,
                        help="seconds with no run queued or in progress before the release counts as final")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hands_off_"))
    data = work / "data"
    data.mkdir()
    env = dict(os.environ, HUB_DATA_DIR=str(data), HUB_SECRET_KEY=SECRET, DAGSTER_HOME=str(data / ".dagster"))
    os.environ.update(env)
    held = prepare_city(data, args.persons)
    venv = ROOT / ".venv" / "bin"

    started = time.monotonic()
    build = subprocess.run([str(venv / "hub"), "run"], env=env, capture_output=True, text=True)
    if build.returncode != 0:
        sys.exit(f"hub run failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}")
    build_seconds = time.monotonic() - started

    grpc_port, web_port = free_port(), free_port()
    workspace = work / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
                         f"      location_name: youth_data_hub\n")
    logs = {name: (work / f"{name}.log").open("w") for name in ("code_server", "daemon", "webserver")}
    procs = [
        subprocess.Popen([str(venv / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(grpc_port),
                          "-m", "hub_assets.definitions", "-d", str(ROOT)], env=env, cwd=ROOT,
                         stdout=logs["code_server"], stderr=subprocess.STDOUT),
    ]
    try:
        wait_for(lambda: _port_open(grpc_port), 300, "the code server")
        procs.append(subprocess.Popen([str(venv / "dagster-daemon"), "run", "-w", str(workspace)], env=env,
                                      cwd=ROOT, stdout=logs["daemon"], stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen([str(venv / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port),
                                       "-w", str(workspace)], env=env, cwd=ROOT, stdout=logs["webserver"],
                                      stderr=subprocess.STDOUT))
        wait_for(lambda: _http_ok(f"http://127.0.0.1:{web_port}/server_info"), 300, "the webserver")

        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            wait_for(lambda: _every_sensor_ticked(instance), 600, "every sensor's first tick", every=1)
            before = _public_digest(data)
            agency_dir = data / "landing" / HELD_BACK[0]
            t0 = time.time()
            shutil.copy2(held, agency_dir / held.name)
            done = wait_for(lambda: _release_settled(instance, t0, args.settle), args.timeout,
                            "a complete release", every=1)
            after = _public_digest(data)
            runs = _runs_after(instance, t0)
            inside = _steps_by_stage(instance, runs)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    total = done - t0
    segments = _segments(runs, t0, done)
    record = {
        "label": args.label,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(), "cpus": os.cpu_count(), "load_average_1_5_15": os.getloadavg(),
        "dropped_file": f"{HELD_BACK[0]}/{held.name}",
        "build_seconds": round(build_seconds, 1),
        "landing_to_release_seconds": round(total, 1),
        "public_files_changed": sorted(k for k in after if after[k] != before.get(k)),
        "runs": runs,
        "segments": segments,
        "steps_by_stage": inside,
        "command": "python benchmarks/bench_hands_off.py" + (f" --persons {args.persons}" if args.persons else ""),
    }
    _write(record)
    print(json.dumps({k: record[k] for k in ("label", "landing_to_release_seconds")}, indent=2))
    shutil.rmtree(work, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _every_sensor_ticked(instance) -> bool:
    from dagster._core.definitions.run_request import InstigatorType

    states = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)]
    if not states:
        return False
    return all(instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=1) for s in states
               if s.status.value == "RUNNING" or s.status.value == "DECLARED_IN_CODE")


def _public_digest(data: Path) -> dict[str, float]:
    import hashlib

    return {str(p.relative_to(data / "public")): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((data / "public").glob("*/*.csv"))}


def _runs_after(instance, t0: float) -> list[dict]:
    import dagster as dg

    records = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(t0, UTC)),
                                       ascending=True)
    out = []
    for r in records:
        keys = sorted(k.to_user_string() for k in (r.dagster_run.asset_selection or ()))
        out.append({"run_id": r.dagster_run.run_id, "job": r.dagster_run.job_name,
                    "status": r.dagster_run.status.value,
                    "stage": stage_of(keys), "assets": len(keys),
                    "created": r.create_timestamp.timestamp() - t0,
                    "started": (r.start_time - t0) if r.start_time else None,
                    "ended": (r.end_time - t0) if r.end_time else None})
    return out


STEP_STAGES = (("ingest", ("ingest",)), ("linkage", ("linkage", "person_keys")), ("spine", ("spine",)),
               ("dbt", ("dbt",)), ("public release and findings page", ("public",)),
               ("governance", ("governance", "identifier_scan", "audit")))


def _step_stage(step_key: str) -> str:
    return next((stage for stage, words in STEP_STAGES if any(w in step_key for w in words)), step_key)


def _steps_by_stage(instance, runs: list[dict]) -> list[dict]:
    """Inside the runs on the path: seconds of each stage's steps, and of the rest of each run
    (worker start, waits for the writer pool, bookkeeping between steps)."""
    totals: dict[str, float] = {}
    for r in runs:
        if r["started"] is None or r["ended"] is None:
            continue
        stats = [s for s in instance.get_run_step_stats(r["run_id"]) if s.start_time and s.end_time]
        in_steps = 0.0
        for s in stats:
            totals[_step_stage(s.step_key)] = totals.get(_step_stage(s.step_key), 0.0) + s.end_time - s.start_time
            in_steps += s.end_time - s.start_time
        rest = f"{r['stage']} run outside its steps"
        totals[rest] = totals.get(rest, 0.0) + max(0.0, r["ended"] - r["started"] - in_steps)
    return [{"stage": k, "seconds": round(v, 1)} for k, v in sorted(totals.items(), key=lambda kv: -kv[1])]


def _release_settled(instance, t0: float, settle: float) -> float | None:
    """The findings page's materialisation time once the release is complete and nothing more
    is on its way; None while not."""
    import dagster as dg

    # Jobs that build no asset (governance logging after each run) do not hold the release back.
    runs = [r for r in _runs_after(instance, t0) if r["assets"]]
    if any(r["ended"] is None for r in runs):
        return None
    findings = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(FINDINGS))
    if findings is None or findings.timestamp < t0:
        return None
    release_runs = [r for r in runs if r["stage"] in ("release", "build and release")]
    if not release_runs or any(r["status"] != "SUCCESS" for r in runs):
        return None
    last_end = max(r["ended"] for r in runs) + t0
    if time.time() - last_end < settle:
        return None
    return findings.timestamp


def _segments(runs: list[dict], t0: float, done: float) -> list[dict]:
    """The path from the copy to the release as a sequence: waits between the runs that build
    assets, each one's queue time and its execution (overlaps counted once). Jobs that build no
    asset (the governance logging after each run) are left off the path; they compete for the
    run queue, which shows as queue time."""
    out, cursor = [], 0.0
    for r in (r for r in runs if r["assets"]):
        if r["created"] > cursor:
            out.append({"what": f"wait for a sensor before the {r['stage']} run", "seconds": r["created"] - cursor})
            cursor = r["created"]
        if r["started"] is not None and r["started"] > cursor:
            out.append({"what": f"{r['stage']} run queued and launched", "seconds": r["started"] - cursor})
            cursor = r["started"]
        if r["ended"] is not None and r["ended"] > cursor:
            out.append({"what": f"{r['stage']} run executing ({r['assets']} assets)", "seconds": r["ended"] - cursor})
            cursor = r["ended"]
    total = done - t0
    for s in out:
        s["seconds"] = round(s["seconds"], 1)
        s["share"] = round(s["seconds"] / total, 3) if total else None
    return out


def _write(record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "hands_off.json"
    records = json.loads(path.read_text()) if path.exists() else []
    records = [r for r in records if r.get("label") != record["label"]] + [record]
    path.write_text(json.dumps(records, indent=2) + "\n")
    lines = ["# Hands-off path: a file copied into landing, until the release is complete", "",
             "`python benchmarks/bench_hands_off.py` (see its docstring): code server, daemon and webserver on",
             "loopback with the shipped instance; time from the copy to the findings page materialised after",
             "every public table the drop changed, with no run queued or in progress afterwards.", ""]
    for r in records:
        lines += [
            f"## {r['label']} ({r['measured_at']}, {r['cpus']} CPUs)",
            "",
            f"- dropped: `{r['dropped_file']}`; **landing to complete release: "
            f"{r['landing_to_release_seconds']} s** (target 60 s)",
            f"- runs after the copy: {len(r['runs'])} "
            f"({', '.join(x['stage'] if x['assets'] else x.get('job', '') for x in r['runs'])})"
            + (f"; public files changed: {len(r['public_files_changed'])}" if "public_files_changed" in r else ""),
            *(
                [f"- load average (1, 5, 15 min) when recorded: {r['load_average_1_5_15']}"]
                if "load_average_1_5_15" in r
                else []
            ),
            *([f"- {r['note']}"] if r.get("note") else []),
            "",
            "| stage | seconds | share |",
            "|---|---:|---:|",
        ]
        lines += [f"| {s['what']} | {s['seconds']} | {s['share']:.0%} |" for s in r["segments"]]
        lines.append("")
        if r.get("steps_by_stage"):
            lines += ["Inside the runs (every run after the copy, steps summed by stage):", "",
                      "| stage | seconds |", "|---|---:|"]
            lines += [f"| {s['stage']} | {s['seconds']} |" for s in r["steps_by_stage"]]
            lines.append("")
    (RESULTS / "hands_off.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
