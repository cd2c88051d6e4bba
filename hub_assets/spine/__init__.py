"""The anonymised person spine: its rules (``rules``: one row per person, the crosswalk) and which
rows a publish must recompute (``delta``). Built from the identity zone after every linkage; the
Dagster side lives in ``defs/spine/``."""
