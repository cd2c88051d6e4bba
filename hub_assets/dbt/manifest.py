"""What the dbt manifest tells the disclosure and governance layers: which marts are published, with which spec,
for which use case, and which sources a model's lineage reaches.

The dbt project marks a mart for publication with ``config.meta.publish`` (dimensions, counts,
rates, and ``exclusive``: which dimensions never put one person in two groups, the only ones the
publisher sums; it is required of every mart with dimensions) and ``config.meta.use_case``; a
model under ``models/marts/<use_case>/`` belongs to that use case even without the meta.

This module is the one owner of the manifest: every reader asks :func:`load_manifest` (the
path is :func:`manifest_path`). ``hub_assets.dbt.project`` makes it (``hub prepare``, ``dbt
parse``); a manifest that is missing is an error naming its path and that command, never an
empty project.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hub_assets.disclosure.margins import PublishSpec
from hub_assets.file_versions import parsed_once_per_version
from hub_assets.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


@dataclass(frozen=True)
class PublishedMart:
    unique_id: str
    name: str
    use_case: str
    schema: str
    relation: str  # the table's name in its schema
    spec: PublishSpec
    description: str
    column_descriptions: dict[str, str]


class ManifestMissing(FileNotFoundError):
    """The dbt manifest has not been made: ``hub prepare`` (``dbt parse``) makes it."""


def manifest_path() -> Path:
    """Where the manifest is read from: ``dbt_project/target/manifest.json`` (``HUB_DBT_MANIFEST``
    points elsewhere, e.g. in tests)."""
    return Path(os.environ.get("HUB_DBT_MANIFEST") or MANIFEST_PATH)


def load_manifest(path: Path | None = None) -> dict:
    """The parsed manifest at ``path`` (default :func:`manifest_path`); :class:`ManifestMissing`
    when there is none."""
    path = Path(path or manifest_path())
    if not path.exists():
        raise ManifestMissing(f"dbt manifest not found at {path}: run `hub prepare` (dbt parse) to make it")
    return _read_manifest(path)


@parsed_once_per_version
def _read_manifest(path: Path) -> dict:
    return json.loads(path.read_text())


def use_case_of(node: dict) -> str | None:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    if meta.get("use_case"):
        return meta["use_case"]
    fqn = node.get("fqn") or []
    if "marts" in fqn and fqn.index("marts") + 2 < len(fqn):
        return fqn[fqn.index("marts") + 1]
    return None


def published_marts(manifest: dict) -> list[PublishedMart]:
    marts = []
    for uid, node in sorted(manifest.get("nodes", {}).items()):
        meta = (node.get("config") or {}).get("meta") or {}
        if node.get("resource_type") != "model" or not meta.get("publish"):
            continue
        use_case = use_case_of(node)
        where = f"dbt model {node['name']} ({node.get('original_file_path', uid)})"
        if not use_case:
            raise ValueError(f"{where}: meta.publish is set but no meta.use_case and not under marts/<use_case>/")
        if meta["publish"].get("dimensions") and "exclusive" not in meta["publish"]:
            raise ValueError(f"{where}: meta.publish must declare exclusive: the dimensions whose groups never "
                             "share a person (an empty list if none); only those are summed into totals")
        marts.append(PublishedMart(
            unique_id=uid, name=node["name"], use_case=use_case, schema=node["schema"],
            relation=node.get("alias") or node["name"], spec=PublishSpec.from_meta(meta["publish"], where),
            description=node.get("description", ""),
            column_descriptions={c: v.get("description", "") for c, v in (node.get("columns") or {}).items()}))
    return marts


def use_case_models(manifest: dict, use_case: str) -> list[str]:
    return sorted(uid for uid, node in manifest.get("nodes", {}).items()
                  if node.get("resource_type") == "model" and use_case_of(node) == use_case)


def sources_reached(manifest: dict, unique_id: str, agencies: set[str]) -> set[str]:
    """Names of the sources a node's lineage reaches: the agency (``raw.<agency>``), else the
    source's own group name (e.g. ``spine``)."""
    nodes, sources = manifest.get("nodes", {}), manifest.get("sources", {})
    seen: set[str] = set()
    stack = [unique_id]
    reached: set[str] = set()
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        if uid in sources:
            src = sources[uid]
            agency = (src.get("meta") or {}).get("agency")
            reached.add(agency or (src["name"] if src["name"] in agencies else src["source_name"]))
            continue
        stack.extend((nodes.get(uid) or {}).get("depends_on", {}).get("nodes", []))
    return reached
