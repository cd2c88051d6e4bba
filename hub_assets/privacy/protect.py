"""Protecting and auditing one public release: every published table of the release together.

``protect_release`` turns each mart's cells into its public table; ``audit_release`` says whether
the protected release may go out. The release step (``hub_assets/defs/public``) calls both and
swaps nothing in unless the audit passes. Here each table is protected and checked on its own
(``suppression.publish`` and the per-table checks of ``disclosure``); ``previous`` is the release
now public, which a joint protection and an attacker audit over both releases reason with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from hub_assets.privacy.disclosure import recoverable_suppressed, small_counts_visible, too_finely_grouped
from hub_assets.privacy.manifest import PublishedMart
from hub_assets.privacy.suppression import publish

# One sentence per protection that changes what a shown figure means (a count rounded or
# perturbed), in plain words for readers: the findings page and every data dictionary print them.
MEANING_CHANGES: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseAudit:
    tables: int
    suppressed_cells: int
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def metadata(self) -> dict:
        return {"audited_tables": self.tables, "audited_suppressed_cells": self.suppressed_cells,
                "audit_failures": len(self.failures), "first_audit_failures": "\n".join(self.failures[:20])}


def protect_release(marts: Sequence[tuple[PublishedMart, pl.DataFrame]], threshold: int,
                    previous: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Each mart's public table, by mart name."""
    return {mart.name: publish(cells, mart.spec, threshold, where=f"mart {mart.name}") for mart, cells in marts}


def audit_release(published: Mapping[str, tuple[PublishedMart, pl.DataFrame]],
                  previous: Mapping[str, tuple[PublishedMart, pl.DataFrame]], threshold: int) -> ReleaseAudit:
    """Every table of the release passes the per-table disclosure checks."""
    failures, suppressed = [], 0
    for name, (mart, table) in sorted(published.items()):
        problems = (small_counts_visible(table, mart.spec, threshold)
                    + recoverable_suppressed(table, mart.spec, threshold)
                    + too_finely_grouped(table, mart.spec, threshold))
        failures += [f"{name}: {p}" for p in problems]
        flags = [c for c in table.columns if c.endswith("_suppressed")]
        suppressed += int(sum(table[c].sum() for c in flags))
    return ReleaseAudit(len(published), suppressed, failures)
