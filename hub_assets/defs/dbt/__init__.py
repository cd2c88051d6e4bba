"""The dbt project (staging -> intermediate -> marts per use case) as Dagster assets."""
