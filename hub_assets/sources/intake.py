"""Load received drops: read, validate, split, write both stores, report.

``ingest_drops`` is what each agency's ingest asset calls for the partitions (drops) of its run,
``ingest_drop`` the same for one drop (and what scripts can call directly). A drop never
half-loads: the identity rows are written first, then the warehouse rows; if the warehouse
write fails the identity rows are removed again, and only after both does the drop become
``accepted`` and the versions it corrects disappear. Its outcome (``outcomes``) is written only
after that commit, so a load that dies anywhere leaves the drop to be loaded again.

Before anything is written, each drop is judged whole: rows failing the drop schema, the
agency's plausibility rules or repeating an earlier row are quarantined, and a drop with no
rows, with no accepted row, or with more quarantined rows than the agency's declared share is
rejected.

Several drops of one agency share one connection per store (opening and closing a DuckDB
file costs a checkpoint), and every drop of the batch is read before any is written: a drop
that cannot be read at all is rejected before the batch has changed anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from hub_assets.sources import stores
from hub_assets.sources.declaration import AgencySource
from hub_assets.sources.distinct import ValueCache
from hub_assets.sources.errors import DropRejected
from hub_assets.sources.landing import archive_path, make_drop_id, received_at, split_drop_id
from hub_assets.sources.outcomes import record_outcome
from hub_assets.sources.plausibility import duplicate_rows, implausible_rows
from hub_assets.sources.quality import (
    IntakeResult,
    date_ranges,
    null_rates,
    quarantine_by_rule,
    write_rejection_report,
    write_report,
)
from hub_assets.sources.reader import SOURCE_ROW, RawDrop, read_drop
from hub_assets.sources.schema import row_failures
from hub_assets.sources.split import split_drop
from hub_assets.sources.tokens import drop_token

QUARANTINE_SCHEMA = {"agency": pl.String, "drop_id": pl.String, "file_name": pl.String,
                     "row_number": pl.Int64, "column_name": pl.String, "value_class": pl.String,
                     "rule": pl.String, "raw_row": pl.String}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_received(source: AgencySource, drop_id: str, paths) -> tuple[bytes, str]:
    file_name, _ = split_drop_id(drop_id)
    path = archive_path(paths, source.name, drop_id)
    sha_file = path.with_name(f"{path.name}.sha256")
    if not path.exists() or not sha_file.exists():
        raise DropRejected(source.name, file_name,
                           f"drop {drop_id} was never received (no copy in {path.parent}); drops are "
                           "received by the agency's sensor or by `hub run`")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if sha != sha_file.read_text().split()[0]:
        raise DropRejected(source.name, file_name, f"the archived copy of drop {drop_id} does not match "
                           "its recorded sha256; the archive has been altered")
    return data, sha


def quarantine_frame(source: AgencySource, drop_id: str, file_name: str, raw: RawDrop,
                     failures: pl.DataFrame) -> pl.DataFrame:
    bad_rows = raw.frame.filter(pl.col(SOURCE_ROW).is_in(failures[SOURCE_ROW].unique().implode()))
    raw_json = {r[SOURCE_ROW]: json.dumps({k: v for k, v in r.items() if k != SOURCE_ROW})
                for r in bad_rows.iter_rows(named=True)}
    rows = [{"row_number": f[SOURCE_ROW], "column_name": f["column_name"], "value_class": f["value_class"],
             "rule": f["rule"], "raw_row": raw_json[f[SOURCE_ROW]]} for f in failures.iter_rows(named=True)]
    rows += [{"row_number": r.source_row, "column_name": None, "value_class": f"{r.n_fields} fields",
              "rule": "wrong_field_count", "raw_row": json.dumps(r.raw)} for r in raw.ragged]
    frame = pl.DataFrame(rows, schema={k: v for k, v in QUARANTINE_SCHEMA.items()
                                       if k not in ("agency", "drop_id", "file_name")})
    return frame.with_columns(agency=pl.lit(source.name), drop_id=pl.lit(drop_id),
                              file_name=pl.lit(file_name)).select(list(QUARANTINE_SCHEMA))


def _reject(con, source, drop_id, file_name, sha, size, paths, exc: DropRejected,
            quarantine: pl.DataFrame | None = None) -> None:
    _, version = split_drop_id(drop_id)
    stores.record_rejection(con, source.name, {
        "drop_id": drop_id, "agency": source.name, "file_name": file_name, "sha256": sha,
        "size_bytes": size, "version": version,
        "supersedes": make_drop_id(file_name, version - 1) if version > 1 else None,
        "received_at": received_at(paths, source.name, drop_id), "status": "rejected", "problem": exc.problem})
    write_rejection_report(paths.reports / source.name / f"{drop_id}.md", source.title, drop_id,
                           file_name, exc.problem, quarantine)
    record_outcome(paths, source.name, drop_id, "rejected", exc.problem)


def _refuse_if_newer_version_loaded(con, source: AgencySource, drop_id: str) -> None:
    file_name, version = split_drop_id(drop_id)
    drops = stores.registered(con, source.name)
    newer = drops.filter((pl.col("file_name") == file_name) & (pl.col("version") > version)
                         & pl.col("status").is_in(["accepted", "superseded"]))
    if newer.height:
        raise DropRejected(source.name, file_name, f"drop {drop_id} is older than the already loaded "
                           f"{newer['drop_id'].to_list()}; loading it would undo a correction")


def ingest_drop(source: AgencySource, drop_id: str, hub) -> IntakeResult:
    """Load received drop ``drop_id`` of ``source`` into both stores. Raises ``DropRejected``
    (after registering the rejection) when the drop is rejected."""
    (result,) = ingest_drops(source, [drop_id], hub)
    return result


@dataclass
class _Received:
    drop_id: str
    sha: str
    size: int
    raw: RawDrop
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA rows
    accepted: pl.DataFrame  # the rows that load


def ingest_drops(source: AgencySource, drop_ids: list[str], hub) -> list[IntakeResult]:
    """Load received drops of ``source``, in the given order (oldest version first). Raises
    ``DropRejected`` naming the first drop that is rejected, after registering its
    rejection and before writing any drop of the batch. A drop the registry already records
    as superseded by a loaded correction is not loaded again (and has no result)."""
    paths = hub.paths
    with hub.identity() as identity_con:
        stores.ensure_identity_tables(identity_con)
        superseded = _superseded(identity_con, source, drop_ids)
        for drop_id in superseded:
            record_outcome(paths, source.name, drop_id, "superseded")
        received = [_read(source, d, paths, identity_con) for d in drop_ids if d not in superseded]
        with hub.warehouse() as warehouse_con:
            stores.ensure_raw_table(warehouse_con, source)
            results = []
            cache = ValueCache()  # names, addresses and places standardised in one drop serve the next
            for drop in received:
                # Each drop is refused here too if a drop loaded earlier in the batch corrects it.
                try:
                    _refuse_if_newer_version_loaded(identity_con, source, drop.drop_id)
                except DropRejected as exc:
                    _reject(identity_con, source, drop.drop_id, split_drop_id(drop.drop_id)[0], drop.sha,
                            drop.size, paths, exc)
                    raise
                results.append(_ingest(source, drop, hub, identity_con, warehouse_con, cache))
    return results


def _superseded(con, source: AgencySource, drop_ids: list[str]) -> set[str]:
    drops = stores.registered(con, source.name)
    return set(drops.filter(pl.col("drop_id").is_in(drop_ids) & (pl.col("status") == "superseded"))["drop_id"])


def _read(source: AgencySource, drop_id: str, paths, identity_con) -> _Received:
    """Read and judge one drop; a rejection is registered (with its report) and raised."""
    file_name, _ = split_drop_id(drop_id)
    sha, size = "", 0
    try:
        data, sha = load_received(source, drop_id, paths)
        size = len(data)
        _refuse_if_newer_version_loaded(identity_con, source, drop_id)
        raw = read_drop(source, file_name, data)
        quarantine, accepted = _judge(source, drop_id, file_name, raw, received_at(paths, source.name, drop_id))
    except DropRejected as exc:
        if not sha:
            raise  # never received, or the archive was altered: nothing to register it under
        _reject(identity_con, source, drop_id, file_name, sha, size, paths, exc, getattr(exc, "quarantine", None))
        raise
    return _Received(drop_id, sha, size, raw, quarantine, accepted)


def _judge(source: AgencySource, drop_id: str, file_name: str, raw: RawDrop,
           arrived: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The drop's quarantine and accepted rows; raises ``DropRejected`` (carrying the
    quarantine) when the drop as a whole is not believable."""
    failures = pl.concat([row_failures(source, raw.frame, SOURCE_ROW),
                          implausible_rows(source, raw.frame, SOURCE_ROW, arrived.date()),
                          duplicate_rows(source, raw.frame, SOURCE_ROW)])
    quarantine = quarantine_frame(source, drop_id, file_name, raw, failures)
    accepted = raw.frame.filter(~pl.col(SOURCE_ROW).is_in(failures[SOURCE_ROW].unique().implode()))
    received, kept = raw.rows_received, accepted.height
    share = source.plausibility.max_quarantine_share
    problem = None
    if received == 0:
        problem = "the file has a header but no rows"
    elif kept == 0:
        problem = f"no row was accepted: all {received} rows were quarantined (the rows and reasons are listed below)"
    elif received >= source.plausibility.share_min_rows and (received - kept) / received > share:
        problem = (f"{received - kept} of {received} rows ({(received - kept) / received:.1%}) were quarantined, "
                   f"more than the {share:.0%} the agency's declaration allows; nothing was loaded")
    if problem:
        exc = DropRejected(source.name, file_name, problem)
        exc.quarantine = quarantine
        raise exc
    return quarantine, accepted


def _ingest(source: AgencySource, drop: _Received, hub, identity_con, warehouse_con,
            cache: ValueCache) -> IntakeResult:
    paths = hub.paths
    drop_id, sha, raw = drop.drop_id, drop.sha, drop.raw
    file_name, version = split_drop_id(drop_id)
    quarantine, accepted = drop.quarantine, drop.accepted
    loaded_at = _now()
    split = split_drop(source, accepted, hub.key(), drop_id, loaded_at, cache)
    earlier = [make_drop_id(file_name, n) for n in range(1, version)]
    result = IntakeResult(
        agency=source.name, drop_id=drop_id, file_name=file_name, sha256=sha, size_bytes=drop.size,
        rows_received=raw.rows_received, rows_accepted=accepted.height,
        rows_quarantined=quarantine["row_number"].n_unique(),
        supersedes=earlier[-1] if earlier else None,
        quarantined_by_rule=quarantine_by_rule(quarantine), nulled=split.nulled,
        null_rates=null_rates(accepted, source.expected_columns), date_ranges=date_ranges(split.content),
        identity_records=split.records.height,
    )
    if result.rows_received != result.rows_accepted + result.rows_quarantined:
        raise RuntimeError(f"agency {source.name}: drop {drop_id}: rows would be lost "
                           f"({result.rows_received} received, {result.rows_accepted} accepted, "
                           f"{result.rows_quarantined} quarantined)")

    drop_row = {"drop_id": drop_id, "agency": source.name, "file_name": file_name, "sha256": sha,
                "size_bytes": drop.size, "version": version, "supersedes": result.supersedes,
                "received_at": received_at(paths, source.name, drop_id), "rows_received": result.rows_received,
                "rows_accepted": result.rows_accepted, "rows_quarantined": result.rows_quarantined,
                "status": "loading"}
    stores.write_identity(identity_con, source.name, drop_id, drop_row, split.records, quarantine,
                          split.identifiers)
    try:
        stores.write_warehouse(warehouse_con, source, [drop_token(hub.key(), source.name, d)
                                                       for d in (drop_id, *earlier)], split.content)
    except BaseException:
        identity_con.begin()
        stores.delete_identity(identity_con, source.name, [drop_id], keep_registry=False)
        identity_con.commit()
        raise
    stores.finish_identity(identity_con, source.name, drop_id, earlier)
    # Only now, with both stores committed, is the drop loaded.
    record_outcome(paths, source.name, drop_id, "accepted")
    for version in earlier:
        record_outcome(paths, source.name, version, "superseded")
    result.report_path = write_report(paths.reports / source.name / f"{drop_id}.md", result, source.title,
                                      quarantine)
    return result


def withdraw_drop(source: AgencySource, drop_id: str, hub, reason: str) -> None:
    """The operator's answer to a drop that is rejected or not loaded: remove whatever part of
    it reached either store and record it as withdrawn, so runs stop reporting it. A loaded drop
    is not withdrawn this way (send a corrected file instead)."""
    from hub_assets.sources.outcomes import read_outcome

    file_name, version = split_drop_id(drop_id)
    outcome = read_outcome(hub.paths, source.name, drop_id)
    if not archive_path(hub.paths, source.name, drop_id).exists():
        raise ValueError(f"agency {source.name}: no drop {drop_id} was received")
    if outcome and outcome["outcome"] in ("accepted", "superseded"):
        raise ValueError(f"agency {source.name}: drop {drop_id} is {outcome['outcome']}; send a corrected file "
                         "under the same name to replace a loaded drop")
    with hub.warehouse() as warehouse_con:
        stores.ensure_raw_table(warehouse_con, source)
        with stores.transaction(warehouse_con):
            warehouse_con.execute(f"delete from {stores.raw_table(source)} where drop_token = ?",
                                  [drop_token(hub.key(), source.name, drop_id)])
    with hub.identity() as identity_con:
        stores.ensure_identity_tables(identity_con)
        data = archive_path(hub.paths, source.name, drop_id)
        stores.record_rejection(identity_con, source.name, {
            "drop_id": drop_id, "agency": source.name, "file_name": file_name,
            "sha256": data.with_name(f"{drop_id}.sha256").read_text().split()[0],
            "size_bytes": data.stat().st_size, "version": version,
            "supersedes": make_drop_id(file_name, version - 1) if version > 1 else None,
            "received_at": received_at(hub.paths, source.name, drop_id), "status": "withdrawn",
            "problem": f"withdrawn: {reason}"})
    record_outcome(hub.paths, source.name, drop_id, "withdrawn", reason)
