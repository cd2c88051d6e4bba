"""Which agency each identity source belongs to, from the declarations: an identity source is
named ``<agency>`` or ``<agency>_<role>`` (a second person in the row, e.g. a mother's block)."""

from __future__ import annotations

from hub_assets.sources.declaration import load_agencies


def agency_of_source() -> dict[str, str]:
    """Identity source name (``<agency>`` or ``<agency>_<role>``) -> agency name."""
    mapping = {}
    for source in load_agencies():
        for block in source.identities:
            mapping[source.identity_source(block)] = source.name
    return mapping
