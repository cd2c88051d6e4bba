"""The hub's dbt project, and the manifest Dagster builds its assets from.

The manifest (``dbt_project/target/manifest.json``) is produced by ``dbt parse``, never by hand.
:func:`prepare_manifest` runs it when the manifest is missing or older than any file of the dbt
project, and is called when the definitions load: a fresh manifest costs one ``stat`` per file,
a stale one about ten seconds of parsing. Deployments can run it ahead of time with
``python -m hub_assets.defs.dbt.project``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from hub_assets.settings import DBT_PROJECT_DIR

# dbt-core is installed next to this interpreter; when the virtualenv is not activated (e.g. the
# code server started by `dg dev`) its bin folder is not on PATH, and dagster-dbt looks for `dbt` there.
if shutil.which("dbt") is None:
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
DBT_EXECUTABLE = shutil.which("dbt") or "dbt"

# profiles.yml lives in the project, so no ~/.dbt is needed anywhere.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Files whose change can change the manifest (target/, logs/ and scripts/ cannot).
_SOURCE_PATTERNS = ("dbt_project.yml", "profiles.yml", "models/**/*", "macros/**/*", "tests/**/*")


def _newest_source_mtime(project_dir: Path) -> float:
    return max(
        (path.stat().st_mtime for pattern in _SOURCE_PATTERNS for path in project_dir.glob(pattern) if path.is_file()),
        default=0.0,
    )


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project.project_dir)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` if the manifest is missing or older than the dbt sources; return its path."""
    if manifest_is_stale(project):
        project.preparer.prepare(project)
    return project.manifest_path


if __name__ == "__main__":
    print(prepare_manifest())
