"""Reading the public zone: ``<public>/<use_case>/<table>.parquet|csv`` into typed tables.

``<public>`` is a release folder (the one being staged, or ``public/current``); given the public
zone itself, the current release is read.

Only files under the public directory are read (never the warehouse or identity stores).
A column ``<col>_suppressed`` marks cells of ``<col>`` withheld by disclosure control; their
value is NULL and must be shown as suppressed. Which columns are dimensions and which are
measures is inferred from types and names, so new marts appear without code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

SUPPRESSED_SUFFIX = "_suppressed"
# Numeric columns that group rather than measure (week 3, age 16, rank 1 ...).
_NUMERIC_DIMENSION = re.compile(
    r"(^|_)(week|year|month|quarter|age|rank|school_id|id|code|order|used|band)($|_)")
# A dimension that is a reporting period: charts show its latest value.
_PERIOD = re.compile(r"(^|_)(year|period)$")
RANK = re.compile(r"(^|_)rank($|_)")
_RATE = re.compile(r"(rate|pct|percent|(^|_)share($|_)|proportion|ratio)")  # not "shared_participants"
_GAP = re.compile(r"(gap|shortfall|difference)")
# A column holding the name of the breakdown in a "long" table (dimension=sex, group=F, ...).
LONG_FORMAT_KEYS = ("dimension", "breakdown", "group_type", "dimension_name", "by")
_TRUE = {"true", "t", "1", "yes", "y"}
# Folders in the public zone that are not use cases: the page, the releases and the pointer to one.
_SKIP_DIRS = {"findings", "releases", "current"}


@dataclass(frozen=True)
class Cell:
    value: object
    suppressed: bool

    @property
    def missing(self) -> bool:
        return self.value is None and not self.suppressed


@dataclass(frozen=True)
class PublicTable:
    use_case: str
    name: str
    path: Path
    frame: pl.DataFrame
    caption: str = ""  # what was narrowed for display, e.g. "summer year 2025"

    @cached_property
    def flag_columns(self) -> set[str]:
        return {c for c in self.frame.columns if c.endswith(SUPPRESSED_SUFFIX)}

    @cached_property
    def measures(self) -> list[str]:
        return [c for c in self.frame.columns if c not in self.flag_columns and self._is_measure(c)]

    @cached_property
    def dimensions(self) -> list[str]:
        return [c for c in self.frame.columns
                if c not in self.flag_columns and c not in self.measures]

    @property
    def rates(self) -> list[str]:
        """Rates, and differences of rates (a gap of 0.2 between two rates is 20 points)."""
        return [c for c in self.measures if _RATE.search(c) or (
            _GAP.search(c) and self.frame[c].drop_nulls().abs().max() is not None
            and self.frame[c].drop_nulls().abs().max() <= 1)]

    @property
    def counts(self) -> list[str]:
        return [c for c in self.measures if c not in self.rates]

    @cached_property
    def rows(self) -> list[dict]:
        return self.frame.to_dicts()

    def cell(self, row: dict, column: str) -> Cell:
        flag = row.get(f"{column}{SUPPRESSED_SUFFIX}", row.get("suppressed"))
        return Cell(row.get(column), _truthy(flag) if column in self.measures else False)

    @property
    def suppressed_cells(self) -> int:
        return sum(self.cell(r, m).suppressed for r in self.rows for m in self.measures)

    @property
    def long_format_key(self) -> str | None:
        return next((d for d in self.dimensions if d.lower() in LONG_FORMAT_KEYS), None)

    def split_long_format(self) -> list[PublicTable]:
        """One table per breakdown of a long table (dimension=sex / age_band / ...)."""
        key = self.long_format_key
        if key is None or len([d for d in self.varying_dimensions if d != key]) != 1:
            return [self]
        parts = []
        for (value,), part in self.frame.group_by(key, maintain_order=True):
            parts.append(PublicTable(self.use_case, f"{self.name} by {value}", self.path,
                                     part.drop(key), self.caption))
        return parts

    def _is_measure(self, column: str) -> bool:
        if f"{column}{SUPPRESSED_SUFFIX}" in self.frame.columns:
            return True
        dtype = self.frame.schema[column]
        if not dtype.is_numeric() or RANK.search(column.lower()):
            return False
        if self.flag_columns:
            # Disclosure control flags every published count and rate; an unflagged number is a
            # dimension (providers_used = 2) unless it is a derived rate (citywide_rate).
            return bool(_RATE.search(column) or _GAP.search(column))
        return not _NUMERIC_DIMENSION.search(column.lower())

    def latest_period(self) -> PublicTable:
        """Rows of the latest reporting period (summer_year, school_year ...), when several."""
        frame, notes = self.frame, []
        for dim in self.dimensions:
            if _PERIOD.search(dim.lower()) and frame[dim].n_unique() > 1:
                latest = frame[dim].drop_nulls().max()
                frame = frame.filter(pl.col(dim) == latest)
                notes.append(f"{dim.replace('_', ' ')} {latest}")
        if not notes:
            return self
        return PublicTable(self.use_case, self.name, self.path, frame, ", ".join(notes))

    @property
    def varying_dimensions(self) -> list[str]:
        """Dimensions that tell rows apart (a single summer_year does not); no rank helpers."""
        return [d for d in self.dimensions
                if not RANK.search(d.lower()) and (self.frame[d].n_unique() > 1 or len(self.rows) == 1)]


def _truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    # Leave strings as strings where inference would guess (e.g. CSA names); polars infers
    # booleans from true/false and numbers from digits, which is what the flags need.
    return pl.read_csv(path, infer_schema_length=10_000, null_values=["", "NA", "NULL"])


def load_public_tables(public_dir: Path) -> dict[str, list[PublicTable]]:
    """Every public table, by use case. A table written as both parquet and CSV is read once,
    from parquet (types survive). Unreadable files raise with the file named."""
    tables: dict[str, list[PublicTable]] = {}
    if (public_dir / "current").is_dir():
        public_dir = public_dir / "current"
    if not public_dir.exists():
        return tables
    for use_case_dir in sorted(p for p in public_dir.iterdir() if p.is_dir()):
        if use_case_dir.name in _SKIP_DIRS or use_case_dir.name.startswith("."):
            continue
        by_stem: dict[str, Path] = {}
        for path in sorted(use_case_dir.glob("*.csv")) + sorted(use_case_dir.glob("*.parquet")):
            by_stem[path.stem] = path  # parquet listed last wins
        for stem, path in sorted(by_stem.items()):
            try:
                frame = _read(path)
            except Exception as error:  # noqa: BLE001 - re-raised with the file named
                raise ValueError(f"public table {path} could not be read: {error}") from error
            tables.setdefault(use_case_dir.name, []).append(
                PublicTable(use_case_dir.name, stem, path, frame))
    return tables
