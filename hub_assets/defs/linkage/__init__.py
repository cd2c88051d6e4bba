"""Linkage and the anonymised spine in the asset graph: the trained model, person keys (full
re-link or incremental attach), the warehouse spine, and their checks, jobs and schedules."""
