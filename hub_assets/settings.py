"""Where the hub keeps its zones on disk, all under one data directory.

The data directory comes from ``HUB_DATA_DIR`` (default ``./data``). The layout follows the
design's zones: landing and archive files, the identity store, the warehouse, the public
zone and the reports written back to agencies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
FIXTURE_CITY_DIR = PROJECT_ROOT / "fixtures" / "city"
GOVERNANCE_FILE = PROJECT_ROOT / "governance.yaml"


@dataclass(frozen=True)
class HubPaths:
    """Every path the hub reads or writes, derived from one data directory."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def identity_db(self) -> Path:
        return self.root / "identity.duckdb"

    @property
    def warehouse_db(self) -> Path:
        # The stem "warehouse" is baked into dbt's manifest as the catalog name: never rename it.
        return self.root / "warehouse.duckdb"

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def truth(self) -> Path:
        """Ground truth of a synthetic city. Linkage never reads it; the linkage quality report
        scores against it when it is here (operations.ground_truth), as do tests and benchmarks."""
        return self.root / "truth"

    @property
    def alerts_log(self) -> Path:
        return self.root / "alerts.log"

    @property
    def secret_key_file(self) -> Path:
        return self.root / ".dev_secret_key"

    def ensure(self) -> "HubPaths":
        for path in (self.landing, self.archive, self.public, self.reports):
            path.mkdir(parents=True, exist_ok=True)
        return self


def data_dir() -> Path:
    return Path(os.environ.get("HUB_DATA_DIR", "data")).resolve()


def hub_paths() -> HubPaths:
    return HubPaths(data_dir())
