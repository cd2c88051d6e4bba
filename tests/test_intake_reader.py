"""The drop reader reads a file the same whichever parser ran: Arrow's fast CSV reader, or the
row-by-row ``csv`` reader it hands over to for files only that one may judge."""

import csv
import io

from conftest import drop_text, valid_row

from hub_assets.sources import reader
from hub_assets.sources.declaration import agency


def read_both(name: str, data: bytes):
    source = agency(name)
    fast = reader.read_drop(source, "f.csv", data)
    original = reader._arrow_frame
    reader._arrow_frame = lambda *args: None  # force the row-by-row reader
    try:
        slow = reader.read_drop(source, "f.csv", data)
    finally:
        reader._arrow_frame = original
    return fast, slow


def awkward_city_schools_file() -> bytes:
    source = agency("city_schools")
    rows = [valid_row(source, i) for i in range(6)]
    rows[0]["SCHOOL_NAME"] = 'Frederick "Fred" Douglass, High'  # quotes and the delimiter in a value
    rows[1]["ADDRESS"] = "12 Main St\nApt 3"  # a newline inside a quoted value
    rows[2]["LAST_NAME"] = "  "  # whitespace only: a missing value
    rows[3]["FIRST_NAME"] = "Zoë"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(source.expected_columns)
    for i, row in enumerate(rows):
        if i == 3:
            out.write("\r\n")  # an empty line carries no record and does not count as a row
        writer.writerow([row[c] for c in source.expected_columns])
    return ("\ufeff" + out.getvalue()).encode()


def test_fast_and_row_by_row_readers_agree_on_awkward_text():
    fast, slow = read_both("city_schools", awkward_city_schools_file())
    assert fast.frame.equals(slow.frame)
    assert fast.frame.height == 6 and not fast.ragged
    assert fast.frame["source_row"].to_list() == [1, 2, 3, 4, 5, 6]
    row = fast.frame.row(0, named=True)
    assert row["SCHOOL_NAME"] == 'Frederick "Fred" Douglass, High'
    assert fast.frame["ADDRESS"][1] == "12 Main St\nApt 3"
    assert fast.frame["LAST_NAME"][2] is None
    assert fast.frame["FIRST_NAME"][3] == "Zoë"


def test_a_row_with_the_wrong_field_count_is_kept_aside_with_its_row_number():
    source = agency("family_league")
    text = drop_text(source, [valid_row(source, i) for i in range(3)]) + "P9,too,few\n"
    text += drop_text(source, [valid_row(source, 5)]).split("\n", 1)[1]
    fast, slow = read_both("family_league", text.encode())
    assert fast.frame.equals(slow.frame)
    assert fast.frame["source_row"].to_list() == [1, 2, 3, 5]
    assert [(r.source_row, r.n_fields) for r in fast.ragged] == [(4, 3)]


def test_a_nul_in_the_body_is_read_as_the_row_by_row_reader_reads_it():
    source = agency("hmis")
    text = drop_text(source, [valid_row(source, i) for i in range(3)])
    data = (text + "x" * 70000 + "\x00,\n").encode()  # beyond the binary sniff of the first 64 KiB
    fast, slow = read_both("hmis", data)
    assert fast.frame.equals(slow.frame) and fast.ragged == slow.ragged
    assert [r.source_row for r in fast.ragged] == [4]
