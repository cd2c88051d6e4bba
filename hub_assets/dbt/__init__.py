"""The hub's dbt project as Python sees it: the project and its manifest (``project``, the one
owner of both), what the manifest says (``manifest``), dbt's kept parse (``parse_cache``) and the
Dagster asset key of a dbt model (``mart_keys``). The Dagster assets live in ``defs/dbt/``."""
