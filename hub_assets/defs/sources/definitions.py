"""Every agency's ingest asset, checks and sensor, generated from ``load_agencies()``."""

import dagster as dg

from hub_assets.defs.sources.assets import build_ingest_asset
from hub_assets.defs.sources.checks import build_intake_checks
from hub_assets.defs.sources.sensors import build_drops_sensor
from hub_assets.sources.declaration import load_agencies


@dg.definitions
def agency_sources() -> dg.Definitions:
    sources = load_agencies()
    return dg.Definitions(
        assets=[build_ingest_asset(s) for s in sources],
        asset_checks=[build_intake_checks(s) for s in sources],
        sensors=[build_drops_sensor(s) for s in sources],
    )
