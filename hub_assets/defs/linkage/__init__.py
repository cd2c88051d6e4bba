"""Linkage in the asset graph: the trained model and the person keys (full re-link or incremental
attach), with their checks, jobs and schedules. The spine built from them is ``defs/spine/``."""
