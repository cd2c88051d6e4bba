"""What has arrived in ``landing/<agency>/`` and what the hub has already received.

The archive is the receipt: receiving a drop copies its bytes, unchanged, to
``archive/<agency>/<drop_id>`` with a ``<drop_id>.sha256`` beside it. So "which drops are new"
is a comparison of the landing folder with the archive, shared by the sensors and by
``hub run``:

- a file whose bytes were already received under its name (any version) is a re-delivery:
  nothing happens;
- a file whose bytes were already received under another name is a duplicate: it is reported
  and not loaded again (exactly once by content);
- a file whose name was never received is a new drop, ``drop_id = <file_name>``;
- a file whose name was received with other bytes is a correction,
  ``drop_id = <file_name>~v<N>``, superseding every earlier version;
- a file that matches no declared pattern is unmatched and reported, never ignored.

Landing is written by others, so it is read as a hostile place: only regular files directly
in a declared agency's folder are read, opened with ``O_NOFOLLOW`` relative to that folder and
checked again on the open descriptor. Symbolic links, directories, devices, pipes, sockets,
hard links and folders of undeclared agencies are refused and reported
(``reports/unmatched_files.md``); nothing outside landing is ever read.

A file is taken only once it is complete: its size and modification time must be the same at
two looks (two sensor ticks, or two looks ``settle_seconds`` apart). This needs nothing from the
agency's upload tools, unlike a ``.done`` marker every agency would have to add; a copy that
pauses longer than the interval is taken early, and its completed bytes then arrive as a
correction that supersedes the partial version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from hub_assets.settings import HubPaths, private_dir, write_private
from hub_assets.sources.declaration import AgencySource

VERSION_SEP = "~v"
_VERSIONED = re.compile(r"^(?P<file>.+)~v(?P<n>\d+)$")
LANDING_ROOT = "(landing)"  # the report's agency column for what sits outside any agency folder
SETTLE_SECONDS = 2.0  # the interval between the two looks of a hub run (sensors use their ticks)

Status = Literal["new", "corrected", "redelivered", "duplicate"]


@dataclass(frozen=True)
class DropCandidate:
    agency: str
    file_name: str
    drop_id: str
    sha256: str
    size_bytes: int
    status: Status
    supersedes: str | None = None  # the latest earlier version's drop_id, for a correction
    same_as: str | None = None  # for a duplicate: the drop_id already received with these bytes


@dataclass(frozen=True)
class UnmatchedFile:
    """A file or folder in landing that is not loaded, and why (refused, or matching no pattern)."""

    agency: str
    file_name: str
    reason: str


@dataclass(frozen=True)
class LandingEntry:
    name: str
    size: int
    mtime_ns: int
    refusal: str | None  # why the entry is refused; None for a regular file that may be a drop


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


def _refusal(st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link; links are never followed (send the file itself)"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory; drops are files placed directly in the agency's folder"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a device, pipe or socket); it was not read"
    if st.st_nlink > 1:
        return "is a hard link to a file elsewhere; it was not read (send a copy of the file)"
    return None


def landing_entries(paths: HubPaths, agency: str) -> list[LandingEntry]:
    """Every entry of ``landing/<agency>/``, from ``lstat`` (nothing is followed or opened).
    Hidden files and partial uploads (``.part``, ``.tmp``) are the uploader's business."""
    folder = paths.landing / agency
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return []  # reported by ``landing_root_refusals``
    except FileNotFoundError:
        return []
    entries = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name.endswith((".part", ".tmp")):
            continue
        st = entry.stat(follow_symlinks=False)
        entries.append(LandingEntry(entry.name, st.st_size, st.st_mtime_ns, _refusal(st)))
    return entries


def landing_files(paths: HubPaths, agency: str) -> list[Path]:
    """The regular files of ``landing/<agency>/`` that may be drops."""
    return [paths.landing / agency / e.name for e in landing_entries(paths, agency) if e.refusal is None]


def landing_fingerprint(paths: HubPaths, agency: str) -> dict[str, list[int]]:
    """name -> [size, mtime_ns] of each possible drop, cheap to compute, so a sensor only hashes
    when something moved. Two fingerprints taken apart are the two looks that tell a complete
    file from one still being written."""
    return {e.name: [e.size, e.mtime_ns] for e in landing_entries(paths, agency) if e.refusal is None}


def settled(first: dict[str, list[int]], second: dict[str, list[int]]) -> set[str]:
    """Files whose size and modification time are the same at both looks."""
    return {name for name, look in second.items() if first.get(name) == look}


def take_two_looks(paths: HubPaths, agencies: Iterable[str],
                   settle_seconds: float = SETTLE_SECONDS) -> dict[str, set[str]]:
    """agency -> its files that did not change over ``settle_seconds`` (waits only when some
    agency has a file in landing)."""
    first = {a: landing_fingerprint(paths, a) for a in agencies}
    if any(first.values()) and settle_seconds > 0:
        time.sleep(settle_seconds)
    return {a: settled(look, landing_fingerprint(paths, a)) for a, look in first.items()}


def landing_root_refusals(paths: HubPaths, declared: Iterable[str]) -> list[UnmatchedFile]:
    """What sits in ``landing/`` itself and is no declared agency's folder."""
    declared = set(declared)
    refused = []
    if not paths.landing.is_dir():
        return refused
    for entry in sorted(os.scandir(paths.landing), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        st = entry.stat(follow_symlinks=False)
        if entry.name in declared:
            if not stat.S_ISDIR(st.st_mode):
                refused.append(UnmatchedFile(LANDING_ROOT, entry.name, f"is agency {entry.name}'s landing folder "
                                             "but not a directory (a link or a file); nothing in it was read"))
        elif stat.S_ISDIR(st.st_mode):
            refused.append(UnmatchedFile(LANDING_ROOT, entry.name + "/", "no agency is declared with this "
                                         "name; nothing in the folder was read (declare the agency, or move "
                                         "its files to a declared agency's folder)"))
        else:
            refused.append(UnmatchedFile(LANDING_ROOT, entry.name, "is not inside an agency's folder; it was "
                                         "not read"))
    return refused


def _open_landed(paths: HubPaths, agency: str, file_name: str) -> int:
    """A descriptor on a landed regular file, never through a link: the agency folder and the
    file are both opened with ``O_NOFOLLOW``, and the file is checked again once open."""
    nofollow = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    folder = os.open(paths.landing / agency, nofollow | os.O_DIRECTORY)
    try:
        fd = os.open(file_name, nofollow | os.O_NONBLOCK, dir_fd=folder)  # a pipe must not block
    finally:
        os.close(folder)
    refusal = _refusal(os.fstat(fd))
    if refusal:
        os.close(fd)
        raise LandingRefused(agency, file_name, refusal)
    return fd


class LandingRefused(Exception):
    def __init__(self, agency: str, file_name: str, reason: str):
        self.refused = UnmatchedFile(agency, file_name, reason)
        super().__init__(f"agency {agency}: file {file_name} {reason}")


def _read_landed(paths: HubPaths, agency: str, file_name: str, copy_to: Path | None = None) -> tuple[str, int]:
    """(sha256, size) of a landed file, copying its bytes to ``copy_to`` on the way."""
    digest, size = hashlib.sha256(), 0
    with os.fdopen(_open_landed(paths, agency, file_name), "rb") as src:
        # The archive copy is immutable and the owner's only (0400) from its creation.
        out = os.fdopen(os.open(copy_to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400), "wb") if copy_to else None
        try:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                if out:
                    out.write(chunk)
        finally:
            if out:
                out.close()
    return digest.hexdigest(), size


def scan_landing(source: AgencySource, paths: HubPaths, complete: set[str] | None = None
                 ) -> tuple[list[DropCandidate], list[UnmatchedFile], list[str]]:
    """Classify every file in ``landing/<agency>/`` against what the archive already holds.

    ``complete`` names the files seen unchanged at two looks; ``None`` takes every file (for a
    landing folder nothing writes to, as in scripts). Returns the candidates, the refused or
    unmatched entries, and the files still being written."""
    known = received_versions(paths, source.name)
    by_content = {sha: make_drop_id(f, n) for f, vs in known.items() for n, sha in vs.items()}
    candidates: list[DropCandidate] = []
    unmatched: list[UnmatchedFile] = []
    arriving: list[str] = []
    for entry in landing_entries(paths, source.name):
        if entry.refusal:
            unmatched.append(UnmatchedFile(source.name, entry.name, entry.refusal))
            continue
        if not source.matches(entry.name):
            unmatched.append(UnmatchedFile(source.name, entry.name,
                                           f"does not match the declared pattern {source.file_pattern!r}"))
            continue
        if complete is not None and entry.name not in complete:
            arriving.append(entry.name)
            continue
        try:
            sha, size = _read_landed(paths, source.name, entry.name)
        except LandingRefused as exc:  # replaced by something else since the listing
            unmatched.append(exc.refused)
            continue
        except FileNotFoundError:
            continue  # removed since the listing
        candidate = _classify(source.name, entry.name, sha, size, known.get(entry.name, {}), by_content)
        if candidate.status in ("new", "corrected"):
            by_content.setdefault(sha, candidate.drop_id)  # the same bytes twice in one scan
        if candidate.status == "duplicate":
            unmatched.append(UnmatchedFile(source.name, entry.name, f"has the same bytes (sha256) as drop "
                                           f"{candidate.same_as}, already received; it is not loaded again"))
        candidates.append(candidate)
    return candidates, unmatched, arriving


def _classify(agency: str, file_name: str, sha: str, size: int, versions: dict[int, str],
              by_content: dict[str, str]) -> DropCandidate:
    if sha in versions.values():
        n = next(v for v, s in versions.items() if s == sha)
        return DropCandidate(agency, file_name, make_drop_id(file_name, n), sha, size, "redelivered")
    if sha in by_content:
        return DropCandidate(agency, file_name, by_content[sha], sha, size, "duplicate",
                             same_as=by_content[sha])
    if not versions:
        return DropCandidate(agency, file_name, file_name, sha, size, "new")
    latest = max(versions)
    return DropCandidate(agency, file_name, make_drop_id(file_name, latest + 1), sha, size, "corrected",
                         supersedes=make_drop_id(file_name, latest))


def receive(candidate: DropCandidate, paths: HubPaths) -> Path:
    """Copy the landed bytes into the archive (atomically) and write the checksum beside them.

    The copy is hashed as it is made: if the agency overwrote the file between scan and copy,
    the bytes received are not the bytes scanned, and nothing is archived under a wrong checksum.
    """
    dest = archive_path(paths, candidate.agency, candidate.drop_id)
    private_dir(dest.parent)  # the archive holds full identities: the owner's only, from creation
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)  # a copy an interrupted receive left behind
    sha, _ = _read_landed(paths, candidate.agency, candidate.file_name, copy_to=tmp)
    if sha != candidate.sha256:
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
    return datetime.fromtimestamp(sha_file.stat().st_mtime, tz=UTC).replace(tzinfo=None)


def report_unmatched(paths: HubPaths, scanned_agencies: list[str], unmatched: list[UnmatchedFile]) -> Path:
    """Update ``reports/unmatched_files.md``: the entries of the agencies just scanned are
    replaced by what was found now (so a renamed or removed file drops out); other agencies' stay."""
    report = paths.reports / "unmatched_files.md"
    state_file = paths.reports / ".unmatched_files.json"
    state: dict[str, list[list[str]]] = json.loads(state_file.read_text()) if state_file.exists() else {}
    for agency in scanned_agencies:
        state.pop(agency, None)
    for u in unmatched:
        state.setdefault(u.agency, []).append([u.file_name, u.reason])
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))
    lines = ["# Files in landing that were not loaded", "",
             "Each was refused or matches no declared pattern. Rename a file to match the agency's declared "
             "pattern, replace a link or folder by the file itself, remove a duplicate, or add a "
             "declaration.", "", "| agency | file | reason |", "|---|---|---|"]
    rows = [f"| {a} | {f} | {r} |" for a in sorted(state) for f, r in state[a]]
    report.write_text("\n".join(lines + (rows or ["| | (none) | |"])) + "\n")
    return report


@dataclass(frozen=True)
class Registration:
    """What one scan did: drops to (re)register as partitions, and what it found besides."""

    drop_ids: list[str]  # newly received, plus received earlier but not yet registered
    received: list[DropCandidate]
    redelivered: list[DropCandidate]
    unmatched: list[UnmatchedFile]  # refused, unmatched or duplicate: reported, not loaded
    arriving: list[str] = ()  # still being written: taken once unchanged at two looks

    @property
    def duplicates(self) -> list[UnmatchedFile]:
        return [u for u in self.unmatched if u.reason.startswith("has the same bytes")]


def receive_new_drops(source: AgencySource, paths: HubPaths, registered: set[str],
                      complete: set[str] | None = None) -> Registration:
    """Receive every new or corrected file of ``source`` into the archive and say which drop_ids
    need a partition. A drop received earlier whose partition was never added (the process
    stopped in between) is returned again, so no drop is stranded. ``complete``: see
    ``scan_landing``."""
    candidates, unmatched, arriving = scan_landing(source, paths, complete)
    received = [c for c in candidates if c.status in ("new", "corrected")]
    for candidate in received:
        receive(candidate, paths)
    report_unmatched(paths, [source.name], unmatched)
    drop_ids = [d for d in received_drop_ids(paths, source.name) if d not in registered]
    return Registration(drop_ids, received, [c for c in candidates if c.status == "redelivered"], unmatched,
                        arriving)


def report_landing_root(paths: HubPaths, declared: Iterable[str]) -> list[UnmatchedFile]:
    """Refuse and report what sits in ``landing/`` outside the declared agencies' folders."""
    refused = landing_root_refusals(paths, declared)
    report_unmatched(paths, [LANDING_ROOT], refused)
    return refused
