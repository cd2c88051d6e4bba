"""Each received drop's outcome (``outcomes/<agency>/<drop_id>.json`` in the data directory):
which drops are loaded, which
were rejected or withdrawn, and so which are still to load.

A drop is ``accepted`` only once both stores have committed its rows (``intake`` writes the
outcome after the identity registry's own commit). A drop with no outcome was received but
never loaded (the run died, the disk was full, the store was read-only): every ``hub run`` and
every sensor tick loads it again, and loading is idempotent (a drop's rows are replaced, never
added twice). Outcomes are small files, so sensors read them without opening a DuckDB store
that a run may be writing.

A rejected drop stays outstanding, reported by every run, until the operator acts: the agency
sends a corrected file under the same name (the new version supersedes the rejected one), or
the operator withdraws the drop (``hub drops withdraw``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from hub_assets.settings import HubPaths
from hub_assets.sources.landing import received_drop_ids, split_drop_id

Outcome = Literal["accepted", "superseded", "rejected", "withdrawn"]
FINAL: tuple[str, ...] = ("accepted", "superseded", "rejected", "withdrawn")


@dataclass(frozen=True)
class Outstanding:
    """A drop that is not loaded: rejected (waiting for the operator) or unloaded (to retry)."""

    agency: str
    drop_id: str
    file_name: str
    state: Literal["rejected", "unloaded"]
    problem: str

    def line(self) -> str:
        return f"agency {self.agency}: file {self.file_name} (drop {self.drop_id}) {self.state}: {self.problem}"


def outcome_path(paths: HubPaths, agency: str, drop_id: str) -> Path:
    return paths.root / "outcomes" / agency / f"{drop_id}.json"


def record_outcome(paths: HubPaths, agency: str, drop_id: str, outcome: Outcome, problem: str = "") -> None:
    """Write (atomically) what became of the drop; called after the stores have committed it."""
    path = outcome_path(paths, agency, drop_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"outcome": outcome, "problem": problem,
                               "at": datetime.now(UTC).isoformat(timespec="seconds")}))
    os.replace(tmp, path)


def read_outcome(paths: HubPaths, agency: str, drop_id: str) -> dict | None:
    path = outcome_path(paths, agency, drop_id)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _latest_versions(drop_ids: list[str]) -> dict[str, str]:
    latest: dict[str, tuple[int, str]] = {}
    for drop_id in drop_ids:
        file_name, n = split_drop_id(drop_id)
        if n > latest.get(file_name, (0, ""))[0]:
            latest[file_name] = (n, drop_id)
    return {f: d for f, (_, d) in latest.items()}


def drops_to_load(paths: HubPaths, agency: str) -> list[str]:
    """Received drops with no final outcome, oldest version first within a file name. A version
    that a newer loaded version already corrects is not loaded any more."""
    received = received_drop_ids(paths, agency)
    outcomes = {d: read_outcome(paths, agency, d) for d in received}
    done_versions: dict[str, int] = {}
    for drop_id, outcome in outcomes.items():
        if outcome and outcome["outcome"] in ("accepted", "superseded"):
            file_name, n = split_drop_id(drop_id)
            done_versions[file_name] = max(done_versions.get(file_name, 0), n)
    pending = []
    for drop_id in received:
        file_name, n = split_drop_id(drop_id)
        if outcomes[drop_id] is None and n > done_versions.get(file_name, 0):
            pending.append(drop_id)
    return pending


def outstanding(paths: HubPaths, agency: str) -> list[Outstanding]:
    """The agency's drops that are not loaded: the latest version of each file name that was
    rejected, and every received drop still to load."""
    received = received_drop_ids(paths, agency)
    found = []
    for file_name, drop_id in sorted(_latest_versions(received).items()):
        outcome = read_outcome(paths, agency, drop_id)
        if outcome and outcome["outcome"] == "rejected":
            found.append(Outstanding(agency, drop_id, file_name, "rejected", outcome["problem"]))
    for drop_id in drops_to_load(paths, agency):
        found.append(Outstanding(agency, drop_id, split_drop_id(drop_id)[0], "unloaded",
                                 "received but not loaded (its load did not finish); it is loaded again by "
                                 "the next run or sensor tick"))
    return found
