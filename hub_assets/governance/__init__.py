"""Governance: who may build, publish and read what, and the record of what was done.

``agreements`` reads the data-sharing agreements in ``governance.yaml`` and walks lineage against
them; ``lineage`` (with ``dbt_compile`` and ``sql_reads``) judges what the compiled SQL really
reads, and ``governed_build`` builds only what passes; ``audit`` keeps the append-only record of
what was built, released and read; ``analyst_export`` (with ``export_scope``) hands analysts their zone.
"""
