"""The hub's dbt project, and making the manifest Dagster builds its assets from.

The manifest (``dbt_project/target/manifest.json``) is produced by ``dbt parse``, never by hand.
:func:`prepare_manifest` runs it when the manifest is missing or was parsed from other content
than the project now holds, and is called when the definitions load. Freshness is a hash over
every file of the project (models, seeds, macros, snapshots, tests, analyses, dbt_project.yml,
profiles.yml, packages), recorded beside the manifest when it is parsed: an edit, a new file and
a deletion all change it, whatever the files' times say. A fresh manifest costs one read of the
project's files (a few hundred kB), a stale one about ten seconds of parsing. Deployments can
run it ahead of time with ``hub prepare`` (or ``python -m hub_assets.dbt.project``). Reading
the manifest is ``hub_assets.dbt.manifest``'s (the same path, ``MANIFEST_PATH``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from hub_assets.dbt.manifest import MANIFEST_PATH
from hub_assets.settings import DBT_PROJECT_DIR

# dbt-core is installed next to this interpreter; when the virtualenv is not activated (e.g. the
# code server started by `dg dev`) its bin folder is not on PATH, and dagster-dbt looks for `dbt` there.
if shutil.which("dbt") is None:
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
DBT_EXECUTABLE = shutil.which("dbt") or "dbt"

# profiles.yml lives in the project, so no ~/.dbt is needed anywhere.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR,
                         target_path=MANIFEST_PATH.parent.relative_to(DBT_PROJECT_DIR))

# What dbt (or Python) writes itself: folders whose content follows from the project's, and dbt's
# anonymous user id.
_GENERATED = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml"}
HASH_FILE = "manifest.sha256"  # beside the manifest: the project hash it was parsed from


def project_hash(project_dir: Path) -> str:
    """SHA-256 over every file of the dbt project: its path and its content, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project_dir.rglob("*") if p.is_file()
                       and not _GENERATED & set(p.relative_to(project_dir).parts)):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _recorded_hash(project: DbtProject) -> str | None:
    recorded = project.manifest_path.with_name(HASH_FILE)
    return recorded.read_text().strip() if recorded.exists() and project.manifest_path.exists() else None


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    return _recorded_hash(project) != project_hash(Path(project.project_dir))


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` if the manifest is missing or was parsed from other content; return its path."""
    current = project_hash(Path(project.project_dir))
    if _recorded_hash(project) != current:
        project.preparer.prepare(project)
        project.manifest_path.with_name(HASH_FILE).write_text(current + "\n")
    return project.manifest_path


if __name__ == "__main__":
    print(prepare_manifest())
