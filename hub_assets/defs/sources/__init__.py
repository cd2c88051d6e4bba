"""Dagster definitions for agency sources, generated from the declarations: one ingest
multi-asset, one sensor and one set of checks per agency."""
