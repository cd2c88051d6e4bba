"""An evaluation set: what the linker is given, and the truth kept apart from it."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# The standard identity columns ``hub link`` reads (hub_assets/linkage/cli.py).
STANDARD_COLUMNS = ("source", "record_id", "first_name", "middle_name", "last_name", "dob",
                    "sex", "address", "zip", "ssn")


@dataclass(frozen=True)
class EvalSet:
    name: str
    description: str
    sources: dict[str, pl.DataFrame]  # source name -> standard-schema records (strings)
    truth: pl.DataFrame  # source, record_id, entity (never shown to a linker)

    @property
    def n_records(self) -> int:
        return sum(frame.height for frame in self.sources.values())

    def records(self) -> pl.DataFrame:
        """Every source's records in one frame, with the columns the set actually carries."""
        return pl.concat(list(self.sources.values()), how="diagonal")

    def true_pairs(self) -> int:
        sizes = self.truth.group_by("entity").len()["len"]
        return int((sizes * (sizes - 1) // 2).sum())
