"""Governance as code: ``governance.yaml`` read into agreements, roles and disclosure settings,
and the rule the build enforces with it.

A use case may be built and published only while its data-sharing agreement is in force and
every agency source its lineage reaches is listed in that agreement. ``refusals`` says why not:
from the dbt manifest's declared lineage (its marts down to ``source`` nodes), and from what the
last governed build found the compiled SQL really reads (``governance/lineage``, recorded in the
data directory by ``governance/governed_build``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hub_assets.dbt.manifest import load_manifest, sources_reached, use_case_models
from hub_assets.file_versions import parsed_once_per_version
from hub_assets.review_policy import policy_from
from hub_assets.settings import GOVERNANCE_FILE
from hub_assets.settings import data_dir as default_data_dir
from hub_assets.sources.declaration import load_agencies

VERDICT_FILE = Path("reports") / "governance_lineage.json"  # under the data directory
DEFAULT_MIN_CELL_SIZE = 10  # disclosure.min_cell_size when governance.yaml does not set it


@dataclass(frozen=True)
class Agreement:
    id: str
    use_case: str
    project: str
    purpose: str
    sources: tuple[str, ...]
    approved_by: str
    approved_on: dt.date
    expires_on: dt.date

    def expired(self, today: dt.date) -> bool:
        return today > self.expires_on


@dataclass(frozen=True)
class SourceRule:
    """A source held to stricter rules than every agreement's defaults, and why (its legal basis):
    no published table whose lineage reaches it shows a count under ``min_cell_size``, and with
    ``analyst_export`` false its rows never leave in an analyst export."""

    source: str
    basis: str
    min_cell_size: int
    analyst_export: bool


@dataclass(frozen=True)
class Governance:
    agencies: dict[str, str]  # name -> steward (each declaration's owner)
    shared_sources: tuple[str, ...]
    agreements: dict[str, Agreement]  # use case -> agreement
    roles: dict[str, tuple[str, ...]]  # role -> schemas it may read ("*" = all)
    min_cell_size: int
    # What a full re-link does with people an attach queued for review: "hold" them apart until a
    # reviewer decides, or "merge" them as the model says (hub_assets/linkage/review.py).
    pending_review_at_relink: str = "hold"
    source_rules: dict[str, SourceRule] = field(default_factory=dict)  # source -> its stricter rule

    def min_cell_size_for(self, sources) -> int:
        """The disclosure threshold of a table whose lineage reaches ``sources``: the strictest of
        the hub's and those sources' rules."""
        return max([self.min_cell_size, *(self.source_rules[s].min_cell_size for s in sources
                                          if s in self.source_rules)])

    @property
    def never_exported(self) -> frozenset[str]:
        """Sources whose rows no analyst export may carry."""
        return frozenset(s for s, rule in self.source_rules.items() if not rule.analyst_export)

    def agreement_for(self, use_case: str) -> Agreement | None:
        return self.agreements.get(use_case)

    def schemas_for(self, role: str) -> tuple[str, ...]:
        if role not in self.roles:
            raise KeyError(f"governance.yaml declares no role {role!r} (roles: {sorted(self.roles)})")
        return self.roles[role]


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"governance.yaml: {where} is not a date (YYYY-MM-DD): {value!r}") from exc


def parse_governance(raw: dict, sources=None) -> Governance:
    """``raw`` is governance.yaml; the agencies and their stewards are the declared ``sources``
    (default: every declaration in hub_assets/sources/agencies/), named nowhere else."""
    if "agencies" in raw:
        raise ValueError("governance.yaml: 'agencies' is not read here; each agency and its steward (owner) "
                         "are declared once, in hub_assets/sources/agencies/<agency>.yaml")
    agencies = {a.name: a.owner for a in (load_agencies() if sources is None else sources)}
    agreements: dict[str, Agreement] = {}
    for item in raw.get("agreements", []):
        where = f"agreement {item.get('id')!r}"
        unknown = set(item.get("sources", [])) - set(agencies)
        if unknown:
            raise ValueError(f"governance.yaml: {where} lists sources {sorted(unknown)}, which no agency declares "
                             f"(hub_assets/sources/agencies/)")
        if item["use_case"] in agreements:
            raise ValueError(f"governance.yaml: use case {item['use_case']!r} has more than one agreement")
        agreements[item["use_case"]] = Agreement(
            id=item["id"], use_case=item["use_case"], project=item.get("project", ""),
            purpose=item.get("purpose", ""), sources=tuple(item.get("sources", [])),
            approved_by=item["approved_by"], approved_on=_date(item["approved_on"], f"{where} approved_on"),
            expires_on=_date(item["expires_on"], f"{where} expires_on"))
    roles = {name: tuple(spec.get("schemas", [])) for name, spec in (raw.get("roles") or {}).items()}
    disclosure = raw.get("disclosure") or {}
    pending_review = policy_from(raw)
    min_cell = int(disclosure.get("min_cell_size", DEFAULT_MIN_CELL_SIZE))
    return Governance(agencies, tuple(raw.get("shared_sources", [])), agreements, roles, min_cell, pending_review,
                      _source_rules(raw.get("source_rules") or {}, agencies, min_cell))


def _source_rules(raw: dict, agencies: dict[str, str], min_cell: int) -> dict[str, SourceRule]:
    rules = {}
    for source, spec in raw.items():
        where = f"governance.yaml: source_rules.{source}"
        if source not in agencies:
            raise ValueError(f"{where}: no agency declares {source!r} (hub_assets/sources/agencies/)")
        unknown = set(spec) - {"basis", "min_cell_size", "analyst_export"}
        if unknown or "basis" not in spec:
            raise ValueError(f"{where}: needs basis (the law or term that requires it), and may set "
                             f"min_cell_size and analyst_export; unknown keys {sorted(unknown)}")
        threshold = int(spec.get("min_cell_size", min_cell))
        if threshold < min_cell:
            raise ValueError(f"{where}: min_cell_size {threshold} is below the hub's {min_cell}; a source rule "
                             "may only be stricter")
        export = spec.get("analyst_export", True)
        if not isinstance(export, bool):
            raise ValueError(f"{where}: analyst_export is true or false, not {export!r}")
        rules[source] = SourceRule(source, str(spec["basis"]), threshold, export)
    return rules


def use_case_min_cell_size(governance: Governance, manifest: dict, use_case: str) -> int:
    """The strictest disclosure threshold any of a use case's models is held to: the strictest
    rule of any source its marts' lineage reaches (each published table is held to its own,
    ``table_min_cell_size``)."""
    reached: set[str] = set()
    for model in use_case_models(manifest, use_case):
        reached |= sources_reached(manifest, model, set(governance.agencies))
    return governance.min_cell_size_for(reached)


def table_min_cell_size(governance: Governance, manifest: dict, unique_id: str) -> int:
    """The disclosure threshold of one published table (its mart's ``unique_id``): the strictest
    rule of any source that mart's own lineage reaches, so that a stricter source raises only
    the tables drawn from it."""
    return governance.min_cell_size_for(sources_reached(manifest, unique_id, set(governance.agencies)))


def table_thresholds(marts, governance: Governance | None = None, manifest: dict | None = None) -> dict[str, int]:
    """The one place a published table's threshold is decided, by mart name: the hub's threshold
    (``suppression.min_cell_size``: ``HUB_MIN_CELL_SIZE`` or ``disclosure.min_cell_size``), raised
    by any stricter source rule the mart's lineage reaches (``table_min_cell_size``). Protection,
    the audits, the public checks, ``release.json`` and the dictionaries all read it from here."""
    from hub_assets.disclosure.suppression import min_cell_size  # it reads governance.yaml through this module

    governance = governance or load_governance()
    manifest = manifest if manifest is not None else load_manifest()
    floor = min_cell_size()
    return {m.name: max(floor, table_min_cell_size(governance, manifest, m.unique_id)) for m in marts}


def load_governance(path: Path | None = None) -> Governance:
    """``governance.yaml`` at the repo root (``HUB_GOVERNANCE_FILE`` points elsewhere, e.g. in tests)."""
    return _read_governance(Path(path or os.environ.get("HUB_GOVERNANCE_FILE") or GOVERNANCE_FILE))


@parsed_once_per_version
def _read_governance(path: Path) -> Governance:
    with path.open() as fh:
        return parse_governance(yaml.safe_load(fh))


def recorded_refusals(use_case: str, data_dir: Path | None = None) -> list[str]:
    """What the last governed build of the data directory refused for the use case (SQL lineage)."""
    path = Path(data_dir or default_data_dir()) / VERDICT_FILE
    if not path.exists():
        return []
    recorded = json.loads(path.read_text())
    return [*recorded.get("build_refusals", []), *recorded.get("refusals", {}).get(use_case, [])]


def refusals(governance: Governance, manifest: dict, use_case: str, today: dt.date | None = None,
             data_dir: Path | None = None, recorded: bool = True) -> list[str]:
    """Why the use case may not be built or published; empty when its agreement covers it.
    ``recorded`` adds what the last governed build of ``data_dir`` (default: the hub's) refused."""
    problems = _manifest_refusals(governance, manifest, use_case, today or dt.date.today())
    if recorded:
        problems += [p for p in recorded_refusals(use_case, data_dir) if p not in problems]
    return problems


def _manifest_refusals(governance: Governance, manifest: dict, use_case: str, today: dt.date) -> list[str]:
    agreement = governance.agreement_for(use_case)
    if agreement is None:
        return [f"use case {use_case!r} has no data-sharing agreement in governance.yaml"]
    problems = []
    if agreement.expired(today):
        problems.append(f"use case {use_case!r}: agreement {agreement.id} expired on "
                        f"{agreement.expires_on.isoformat()} (today is {today.isoformat()})")
    allowed = set(agreement.sources) | set(governance.shared_sources)
    via: dict[str, list[str]] = {}
    for model in use_case_models(manifest, use_case):
        for source in sources_reached(manifest, model, set(governance.agencies)) - allowed:
            via.setdefault(source, []).append(model.split(".")[-1])
    for source, models in sorted(via.items()):
        problems.append(f"use case {use_case!r} reaches source {source!r} (via {', '.join(models)}), "
                        f"which agreement {agreement.id} does not list (it allows {sorted(agreement.sources)})")
    return problems


def agencies_reached_in_graph(parents_of, start) -> set[str]:
    """Agency sources upstream of ``start`` in the Dagster asset graph (``parents_of(key)`` gives
    an asset key's parents). The walk stops at the person spine: person keys are shared
    infrastructure built from every agency's identity records under the linkage agreement, and
    carry no agency's content. Anything else — a Python asset reading a raw table directly,
    where the dbt manifest cannot see it — counts."""
    reached: set[str] = set()
    seen = set()
    frontier = list(parents_of(start))
    while frontier:
        key = frontier.pop()
        if key in seen or key.path[0] == "spine":
            continue
        seen.add(key)
        if key.path[0] in ("raw", "identity") and len(key.path) == 2:
            reached.add(key.path[1])
        frontier.extend(parents_of(key))
    return reached


def graph_refusals(governance: Governance, use_case: str, reached: set[str]) -> list[str]:
    """The Dagster-graph half of a refusal: agencies the asset graph reaches that the
    use case's agreement does not list (a missing agreement is reported by ``refusals``)."""
    agreement = governance.agreement_for(use_case)
    if agreement is None:
        return []
    allowed = set(agreement.sources) | set(governance.shared_sources)
    return [f"use case {use_case!r} reaches source {agency!r} in the Dagster asset graph, which "
            f"agreement {agreement.id} does not list (it allows {sorted(agreement.sources)})"
            for agency in sorted(reached - allowed)]
