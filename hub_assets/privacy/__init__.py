"""Privacy by construction: disclosure control, identifier scans, governance, audit, analyst export.

Every public number passes through ``suppression``; ``disclosure`` proves the result safe;
``identifier_scan`` proves no identifier left the identity zone; ``governance`` reads the
data-sharing agreements in ``governance.yaml`` and walks lineage against them; ``audit`` keeps the
append-only record of what was built and released; ``analyst_export`` hands analysts their zone.
"""
