"""Read one drop's bytes into a frame of text columns, or reject the whole file with a reason.

Everything is read as text: typing is validation's job, so that a bad value quarantines one row
instead of failing the file. A file is rejected only when it cannot be read as the declared
format at all: empty, binary, not in the declared encoding, or a header that is not the
declared one. Rows with the wrong number of fields are kept aside for quarantine.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from hub_assets.sources.declaration import AgencySource
from hub_assets.sources.errors import DropRejected

SOURCE_ROW = "source_row"  # 1-based data row number in the file (header excluded)


@dataclass(frozen=True)
class RaggedRow:
    source_row: int
    n_fields: int
    raw: list[str]


@dataclass(frozen=True)
class RawDrop:
    frame: pl.DataFrame  # every declared column as String, plus SOURCE_ROW
    ragged: list[RaggedRow]  # rows whose field count differs from the header's

    @property
    def rows_received(self) -> int:
        return self.frame.height + len(self.ragged)


def read_drop(source: AgencySource, file_name: str, data: bytes) -> RawDrop:
    def reject(problem: str) -> DropRejected:
        return DropRejected(source.name, file_name, problem)

    if not data.strip():
        raise reject("the file is empty")
    if b"\x00" in data[:65536]:
        raise reject("the file is not a delimited text file (it contains binary content)")
    text = _decode(data, source.encoding, reject)
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first column's name
    buffer = io.StringIO(text, newline="")
    rows = csv.reader(buffer, delimiter=source.delimiter)
    try:
        header = [h.strip() for h in next(rows)]
    except csv.Error as exc:
        raise reject(f"the file is not valid delimited text: {exc}") from exc
    _check_header(source, header, reject)
    fast = _arrow_frame(source, header, text[buffer.tell():])
    if fast is not None:
        return fast
    try:
        # An empty line carries no record (csv yields [] for it); a line of empty fields does.
        body = [r for r in rows if r]
    except csv.Error as exc:
        raise reject(f"the file is not valid delimited text: {exc}") from exc
    return _frame(source, header, body)


def _decode(data: bytes, encoding: str, reject) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise reject(f"the file is not in the declared encoding {encoding}: byte "
                     f"{data[exc.start:exc.start + 1]!r} at line {line} cannot be decoded") from exc


def _check_header(source: AgencySource, header: list[str], reject) -> None:
    expected = source.expected_columns
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise reject(f"the header repeats columns {duplicated}")
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if not missing and not extra:
        return
    if len(header) == 1 and source.delimiter not in header[0]:
        for other in (",", "|", "\t", ";"):
            if other != source.delimiter and other in header[0]:
                raise reject(f"the header is not delimited by the declared {source.delimiter!r} "
                             f"(it looks {other!r}-delimited)")
    parts = []
    if missing:
        parts.append(f"declared columns missing from the header: {missing}")
    if extra:
        parts.append(f"columns not in the declaration: {extra}")
    raise reject("the header changed: " + "; ".join(parts))


def _arrow_frame(source: AgencySource, header: list[str], body: str) -> RawDrop | None:
    """The body parsed by Arrow, or None when the row-by-row reader must read this file."""
    if "\x00" in body:  # NUL handling differs between parsers and versions: let csv decide
        return None

    def needs_row_reader(row) -> str:
        return "error"  # a row with the wrong field count: stop, the row-by-row reader quarantines it

    names = [f"c{j}" for j in range(len(header))]  # positional: the header is already checked
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=source.delimiter, newlines_in_values=True,
                                              ignore_empty_lines=True, invalid_row_handler=needs_row_reader),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowException:
        return None
    frame = pl.from_arrow(table).rename(dict(zip(names, header)))
    longest = frame.select(pl.max_horizontal(pl.all().str.len_chars().max())).item()
    if (longest or 0) > csv.field_size_limit():  # csv refuses such a field; let it say so
        return None
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(SOURCE_ROW))
    return RawDrop(_standard_cells(source, header, frame), [])


def _frame(source: AgencySource, header: list[str], body: list[list[str]]) -> RawDrop:
    width = len(header)
    good_rows: list[int] = []
    good: list[list[str]] = []
    ragged: list[RaggedRow] = []
    for i, row in enumerate(body, start=1):
        if len(row) == width:
            good_rows.append(i)
            good.append(row)
        else:
            ragged.append(RaggedRow(i, len(row), row))
    transposed = list(zip(*good)) if good else [() for _ in header]
    columns = {name: list(transposed[j]) for j, name in enumerate(header)}
    frame = pl.DataFrame({**columns, SOURCE_ROW: good_rows},
                         schema={**{h: pl.String for h in header}, SOURCE_ROW: pl.Int64})
    return RawDrop(_standard_cells(source, header, frame), ragged)


def _standard_cells(source: AgencySource, header: list[str], frame: pl.DataFrame) -> pl.DataFrame:
    # Blank and whitespace-only cells are missing values.
    return frame.with_columns(
        pl.col(h).str.strip_chars().replace("", None) for h in header
    ).select([*source.expected_columns, SOURCE_ROW])
