"""Probabilistic record linkage of the standard identity records (Splink on DuckDB).

Pure functions, no Dagster: the method reads top to bottom as
prepare -> settings -> blocking -> train -> predict -> cluster -> keys (or incremental)
-> quality (the spine built from the keys is ``hub_assets.spine``). ``hub_assets.defs.linkage``
wraps these as assets; ``hub link`` runs them on plain files.
"""
