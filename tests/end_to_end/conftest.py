"""One real build of the whole hub on the bundled fixture city, shared by the end-to-end tests.

``hub run`` runs in a subprocess, exactly as the Quick start runs it, against a temporary data
directory and Dagster home. Every test module here is in the xdist group ``hub_build`` so the
build happens once per test session, on one worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_assets.settings import FIXTURE_CITY_DIR, HubPaths

E2E_SECRET_KEY = "end-to-end-test-key"


@dataclass(frozen=True)
class BuiltHub:
    paths: HubPaths
    returncode: int
    output: str
    truth: Path


def run_hub_cli(data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HUB_DATA_DIR=str(data_dir), HUB_SECRET_KEY=E2E_SECRET_KEY,
               DAGSTER_HOME=str(data_dir / ".dagster"))
    return subprocess.run([sys.executable, "-m", "hub_assets.cli", "run"], env=env,
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="session")
def built_hub(tmp_path_factory: pytest.TempPathFactory) -> BuiltHub:
    data_dir = tmp_path_factory.mktemp("hub") / "data"
    shutil.copytree(FIXTURE_CITY_DIR / "landing", data_dir / "landing")
    # Truth stays OUTSIDE the data dir: the pipeline must never see it.
    truth = FIXTURE_CITY_DIR / "truth"
    done = run_hub_cli(data_dir)
    return BuiltHub(HubPaths(data_dir), done.returncode, done.stdout + done.stderr, truth)
