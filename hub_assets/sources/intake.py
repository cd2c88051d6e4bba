"""Load received drops: read, validate, split, write both stores, report.

``ingest_drops`` is what each agency's ingest asset calls for the partitions (drops) of its run,
``ingest_drop`` the same for one drop (and what scripts can call directly). A drop never
half-loads: the identity rows are written first, then the warehouse rows; if the warehouse
write fails the identity rows are removed again, and only after both does the drop become
``accepted`` and the versions it corrects disappear.

Several drops of one agency share one connection per store (opening and closing a DuckDB
file costs a checkpoint), and every drop of the batch is read before any is written: a drop
that cannot be read at all is rejected before the batch has changed anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

from hub_assets.sources.declaration import AgencySource
from hub_assets.sources.errors import DropRejected
from hub_assets.sources.landing import archive_path, make_drop_id, received_at, split_drop_id
from hub_assets.sources.quality import (IntakeResult, date_ranges, null_rates, quarantine_by_rule,
                                        write_rejection_report, write_report)
from hub_assets.sources.reader import SOURCE_ROW, RawDrop, read_drop
from hub_assets.sources.schema import row_failures
from hub_assets.sources.distinct import ValueCache
from hub_assets.sources.split import split_drop
from hub_assets.sources.tokens import drop_token
from hub_assets.sources import stores

QUARANTINE_SCHEMA = {"agency": pl.String, "drop_id": pl.String, "file_name": pl.String,
                     "row_number": pl.Int64, "column_name": pl.String, "value_class": pl.String,
                     "rule": pl.String, "raw_row": pl.String}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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


def _reject(con, source, drop_id, file_name, sha, size, paths, exc: DropRejected) -> None:
    _, version = split_drop_id(drop_id)
    stores.record_rejection(con, source.name, {
        "drop_id": drop_id, "agency": source.name, "file_name": file_name, "sha256": sha,
        "size_bytes": size, "version": version,
        "supersedes": make_drop_id(file_name, version - 1) if version > 1 else None,
        "received_at": received_at(paths, source.name, drop_id), "status": "rejected"})
    write_rejection_report(paths.reports / source.name / f"{drop_id}.md", source.title, drop_id,
                           file_name, exc.problem)


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
    (after registering the rejection) when the file cannot be read at all."""
    (result,) = ingest_drops(source, [drop_id], hub)
    return result


@dataclass
class _Received:
    drop_id: str
    sha: str
    size: int
    raw: RawDrop


def ingest_drops(source: AgencySource, drop_ids: list[str], hub) -> list[IntakeResult]:
    """Load received drops of ``source``, in the given order (oldest version first). Raises
    ``DropRejected`` naming the first drop that cannot be read, after registering its
    rejection and before writing any drop of the batch."""
    paths = hub.paths
    with hub.identity() as identity_con:
        stores.ensure_identity_tables(identity_con)
        received = [_read(source, drop_id, paths, identity_con) for drop_id in drop_ids]
        with hub.warehouse() as warehouse_con:
            stores.ensure_raw_table(warehouse_con, source)
            results = []
            cache = ValueCache()  # names, addresses and places standardised in one drop serve the next
            for drop in received:
                # Each drop is refused here too if a drop loaded earlier in the batch corrects it.
                _refuse_if_newer_version_loaded(identity_con, source, drop.drop_id)
                results.append(_ingest(source, drop, hub, identity_con, warehouse_con, cache))
    return results


def _read(source: AgencySource, drop_id: str, paths, identity_con) -> _Received:
    file_name, _ = split_drop_id(drop_id)
    data, sha = load_received(source, drop_id, paths)
    _refuse_if_newer_version_loaded(identity_con, source, drop_id)
    try:
        raw = read_drop(source, file_name, data)
    except DropRejected as exc:
        _reject(identity_con, source, drop_id, file_name, sha, len(data), paths, exc)
        raise
    return _Received(drop_id, sha, len(data), raw)


def _ingest(source: AgencySource, drop: _Received, hub, identity_con, warehouse_con,
            cache: ValueCache) -> IntakeResult:
    paths = hub.paths
    drop_id, sha, raw = drop.drop_id, drop.sha, drop.raw
    file_name, version = split_drop_id(drop_id)
    failures = row_failures(source, raw.frame, SOURCE_ROW)
    quarantine = quarantine_frame(source, drop_id, file_name, raw, failures)
    accepted = raw.frame.filter(~pl.col(SOURCE_ROW).is_in(failures[SOURCE_ROW].unique().implode()))
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
    result.report_path = write_report(paths.reports / source.name / f"{drop_id}.md", result, source.title,
                                      quarantine)
    return result
