"""Where the hub's Dagster instance lives: ``$HUB_DATA_DIR/.dagster`` with the shipped config.

``deploy/dagster.yaml`` is the embedded instance (SQLite storage, run queue, the
``duckdb_writer`` pool limited to 1). ``hub run`` and ``dg dev`` point ``DAGSTER_HOME`` at the
directory this module prepares, so a fresh data directory needs no manual setup.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hub_assets.settings import PROJECT_ROOT

EMBEDDED_INSTANCE_CONFIG = PROJECT_ROOT / "deploy" / "dagster.yaml"
POSTGRES_INSTANCE_CONFIG = PROJECT_ROOT / "deploy" / "postgres" / "dagster.yaml"


def ensure_dagster_home(data_dir: str | Path) -> Path:
    """Create ``<data_dir>/.dagster/dagster.yaml`` from the shipped config if missing.

    An existing ``dagster.yaml`` is left alone: an operator may have tuned it on purpose.
    Returns the directory to use as ``DAGSTER_HOME``.
    """
    home = Path(data_dir).resolve() / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(EMBEDDED_INSTANCE_CONFIG, config)
    return home
