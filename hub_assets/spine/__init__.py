"""The anonymised person spine: its rules (``rules``: one row per person, the crosswalk), which
rows a publish must recompute (``delta``) and the publish itself (``publish``). Built from the
identity zone after every linkage; the Dagster side lives in ``defs/spine/``."""
