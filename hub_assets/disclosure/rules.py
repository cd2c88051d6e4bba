"""The disclosure rules: one registry that the release applies and the public checks assert.

Each rule finds the problems of one published table. Three read the table alone
(``table_checks.TABLE_RULES``: small counts, rates on suppressed counts, fine groupings); the
attacker audit reads every table of the release and of the release before (``release_audit``) and
reports the cells of this table it can solve for. The release is refused while any rule finds a
problem (``defs/disclosure/assets.py``); each rule is also a blocking asset check on every public
table, run on what was published (``defs/disclosure/checks.py``). Adding a rule is one entry in
``DISCLOSURE_RULES``: the release and its checks both loop over it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from hub_assets.dbt.manifest import PublishedMart
from hub_assets.disclosure.release_audit import ReleaseAudit
from hub_assets.disclosure.table_checks import TABLE_RULES, Rule

AUDIT_RULE = "no_recoverable_suppressed_cells"


@dataclass(frozen=True)
class Release:
    """What the rules read: the release's tables by name, each table's threshold, the rounding
    base, and the attacker audit over them all (``audit_of``, run once, on first use)."""

    tables: Mapping[str, tuple[PublishedMart, pl.DataFrame]]
    thresholds: Mapping[str, int]
    base: int
    audit_of: Callable[[], ReleaseAudit]

    @cached_property
    def audit(self) -> ReleaseAudit:
        return self.audit_of()


@dataclass(frozen=True)
class DisclosureRule:
    name: str
    description: str
    problems: Callable[[Release, str], list[str]]  # (release, table name) -> problems
    metadata: Callable[[Release, str], dict]  # what the check records beside its verdict


def _table_rule(rule: Rule) -> DisclosureRule:
    def problems(release: Release, name: str) -> list[str]:
        mart, table = release.tables[name]
        return rule.problems(table, mart.spec, release.thresholds[name], release.base)

    return DisclosureRule(rule.name, rule.description, problems,
                          lambda release, name: {"min_cell_size": release.thresholds[name],
                                                 "rounding_base": release.base})


DISCLOSURE_RULES: tuple[DisclosureRule, ...] = (
    *(_table_rule(rule) for rule in TABLE_RULES),
    DisclosureRule(
        AUDIT_RULE,
        "No suppressed cell can be solved for, or pinned within the protection width, from all public tables "
        "of this release and the previous one; no change since the previous release reads exactly.",
        lambda release, name: release.audit.failures_of(name),
        lambda release, name: release.audit.metadata()),
)


def release_problems(release: Release) -> list[str]:
    """Every rule's problems with every table of the release, each naming its table."""
    return [f"{name}: {problem}" for rule in DISCLOSURE_RULES for name in sorted(release.tables)
            for problem in rule.problems(release, name)]
