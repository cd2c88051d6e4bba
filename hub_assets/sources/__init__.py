"""Agency sources: each declared once in ``agencies/<name>.yaml``; everything else is generated."""

from hub_assets.sources.declaration import AgencySource, load_agencies

__all__ = ["AgencySource", "load_agencies"]
