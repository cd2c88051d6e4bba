"""What has arrived in ``landing/<agency>/`` and what the hub has already received.

The archive is the receipt: receiving a drop copies its bytes, unchanged, to
``archive/<agency>/<drop_id>`` with a ``<drop_id>.sha256`` beside it. So "which drops are new"
is a comparison of the landing folder with the archive, shared by the sensors and by
``hub run``:

- a file whose bytes were already received (any version) is a re-delivery: nothing happens;
- a file whose name was never received is a new drop, ``drop_id = <file_name>``;
- a file whose name was received with other bytes is a correction,
  ``drop_id = <file_name>~v<N>``, superseding every earlier version;
- a file that matches no declared pattern is unmatched and reported, never ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from hub_assets.settings import HubPaths, private_dir, write_private
from hub_assets.sources.declaration import AgencySource

VERSION_SEP = "~v"
_VERSIONED = re.compile(r"^(?P<file>.+)~v(?P<n>\d+)$")

Status = Literal["new", "corrected", "redelivered"]


@dataclass(frozen=True)
class DropCandidate:
    agency: str
    file_name: str
    drop_id: str
    sha256: str
    size_bytes: int
    status: Status
    supersedes: str | None = None  # the latest earlier version's drop_id, for a correction


@dataclass(frozen=True)
class UnmatchedFile:
    agency: str
    file_name: str
    reason: str


def split_drop_id(drop_id: str) -> tuple[str, int]:
    """``"f.csv~v3"`` -> ``("f.csv", 3)``; ``"f.csv"`` -> ``("f.csv", 1)``."""
    m = _VERSIONED.match(drop_id)
    return (m["file"], int(m["n"])) if m else (drop_id, 1)


def make_drop_id(file_name: str, version: int) -> str:
    return file_name if version == 1 else f"{file_name}{VERSION_SEP}{version}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_path(paths: HubPaths, agency: str, drop_id: str) -> Path:
    return paths.archive / agency / drop_id


def received_versions(paths: HubPaths, agency: str) -> dict[str, dict[int, str]]:
    """file_name -> {version: sha256} for every drop already in the archive."""
    folder = paths.archive / agency
    versions: dict[str, dict[int, str]] = {}
    if not folder.is_dir():
        return versions
    for sha_file in folder.glob("*.sha256"):
        drop_id = sha_file.name.removesuffix(".sha256")
        file_name, n = split_drop_id(drop_id)
        versions.setdefault(file_name, {})[n] = sha_file.read_text().split()[0]
    return versions


def received_drop_ids(paths: HubPaths, agency: str) -> list[str]:
    """Every received drop_id, oldest version first within a file name."""
    return [make_drop_id(f, n) for f, vs in sorted(received_versions(paths, agency).items())
            for n in sorted(vs)]


def landing_files(paths: HubPaths, agency: str) -> list[Path]:
    folder = paths.landing / agency
    if not folder.is_dir():
        return []
    # Hidden files and partial uploads (".part", ".tmp") are the uploader's business, not drops.
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp")))


def landing_fingerprint(paths: HubPaths, agency: str) -> dict[str, list[int]]:
    """name -> [size, mtime_ns]: cheap to compute, so a sensor only hashes when something moved."""
    out = {}
    for p in landing_files(paths, agency):
        st = p.stat()
        out[p.name] = [st.st_size, st.st_mtime_ns]
    return out


def scan_landing(source: AgencySource, paths: HubPaths) -> tuple[list[DropCandidate], list[UnmatchedFile]]:
    """Classify every file in ``landing/<agency>/`` against what the archive already holds."""
    known = received_versions(paths, source.name)
    candidates: list[DropCandidate] = []
    unmatched: list[UnmatchedFile] = []
    for path in landing_files(paths, source.name):
        if not source.matches(path.name):
            unmatched.append(UnmatchedFile(source.name, path.name,
                                           f"does not match the declared pattern {source.file_pattern!r}"))
            continue
        sha = file_sha256(path)
        size = path.stat().st_size
        versions = known.get(path.name, {})
        if sha in versions.values():
            n = next(v for v, s in versions.items() if s == sha)
            candidates.append(DropCandidate(source.name, path.name, make_drop_id(path.name, n), sha, size,
                                            "redelivered"))
        elif not versions:
            candidates.append(DropCandidate(source.name, path.name, path.name, sha, size, "new"))
        else:
            latest = max(versions)
            candidates.append(DropCandidate(source.name, path.name, make_drop_id(path.name, latest + 1), sha,
                                            size, "corrected", supersedes=make_drop_id(path.name, latest)))
    return candidates, unmatched


def receive(candidate: DropCandidate, paths: HubPaths) -> Path:
    """Copy the landed bytes into the archive (atomically) and write the checksum beside them.

    The copy is hashed again: if the agency overwrote the file between scan and copy, the bytes
    received are not the bytes scanned, and nothing is archived under a wrong checksum.
    """
    src = paths.landing / candidate.agency / candidate.file_name
    dest = archive_path(paths, candidate.agency, candidate.drop_id)
    private_dir(dest.parent)  # the archive holds full identities: the owner's only, from creation
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)  # a copy an interrupted receive left behind
    with src.open("rb") as fsrc, os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400), "wb") as fdst:
        shutil.copyfileobj(fsrc, fdst)
    if file_sha256(tmp) != candidate.sha256:
        tmp.unlink()
        raise RuntimeError(f"agency {candidate.agency}: file {candidate.file_name} changed while it was being "
                           "received; it will be picked up on the next scan")
    os.replace(tmp, dest)  # immutable and private: 0400 from its creation
    sha_file = dest.with_name(f"{dest.name}.sha256")
    sha_file.unlink(missing_ok=True)
    write_private(sha_file, f"{candidate.sha256}  {candidate.file_name}\n".encode())
    return dest


def received_at(paths: HubPaths, agency: str, drop_id: str) -> datetime:
    sha_file = archive_path(paths, agency, drop_id).with_name(f"{drop_id}.sha256")
    return datetime.fromtimestamp(sha_file.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None)


def report_unmatched(paths: HubPaths, scanned_agencies: list[str], unmatched: list[UnmatchedFile]) -> Path:
    """Update ``reports/unmatched_files.md``: the entries of the agencies just scanned are
    replaced by what was found now (so a renamed file drops out); other agencies' stay."""
    report = paths.reports / "unmatched_files.md"
    state_file = paths.reports / ".unmatched_files.json"
    state: dict[str, list[list[str]]] = json.loads(state_file.read_text()) if state_file.exists() else {}
    for agency in scanned_agencies:
        state.pop(agency, None)
    for u in unmatched:
        state.setdefault(u.agency, []).append([u.file_name, u.reason])
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))
    lines = ["# Files in landing that match no declared pattern", "",
             "These files were not loaded. Rename them to match the agency's declared pattern, "
             "or add a declaration.", "", "| agency | file | reason |", "|---|---|---|"]
    rows = [f"| {a} | {f} | {r} |" for a in sorted(state) for f, r in state[a]]
    report.write_text("\n".join(lines + (rows or ["| | (none) | |"])) + "\n")
    return report


@dataclass(frozen=True)
class Registration:
    """What one scan did: drops to (re)register as partitions, and what it found besides."""

    drop_ids: list[str]  # newly received, plus received earlier but not yet registered
    received: list[DropCandidate]
    redelivered: list[DropCandidate]
    unmatched: list[UnmatchedFile]


def receive_new_drops(source: AgencySource, paths: HubPaths, registered: set[str]) -> Registration:
    """Receive every new or corrected file of ``source`` into the archive and say which drop_ids
    need a partition. A drop received earlier whose partition was never added (the process
    stopped in between) is returned again, so no drop is stranded."""
    candidates, unmatched = scan_landing(source, paths)
    received = [c for c in candidates if c.status in ("new", "corrected")]
    for candidate in received:
        receive(candidate, paths)
    report_unmatched(paths, [source.name], unmatched)
    drop_ids = [d for d in received_drop_ids(paths, source.name) if d not in registered]
    return Registration(drop_ids, received, [c for c in candidates if c.status == "redelivered"], unmatched)
