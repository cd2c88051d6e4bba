"""The findings page: static HTML with inline SVG charts, built from the public zone only.

``tables`` reads whatever public tables exist, ``charts`` draws them as SVG (no script, no CDN,
so the page opens offline), ``page`` assembles the report. Suppressed cells are shown as
suppressed, never as zero.
"""

from hub_assets.findings.page import render_findings_page, write_findings_page
from hub_assets.findings.tables import PublicTable, load_public_tables

__all__ = ["PublicTable", "load_public_tables", "render_findings_page", "write_findings_page"]
