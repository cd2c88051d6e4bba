{#- Fails with one row per listed column that holds nulls, naming it and counting its null rows.
    One test (one Dagster check) per model instead of one per column: the staging models' required
    columns are checked in a single pass, where one test per column cost a dbt node, three Dagster
    events and a scan of the (view's) rows each. -#}
{% test not_null_columns(model, columns) %}
    with null_counts as (
        select
            {%- for column in columns %}
            count(*) - count({{ column }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )
    {% for column in columns -%}
    select '{{ column }}' as null_column, {{ column }} as null_rows from null_counts where {{ column }} > 0
    {{ "union all" if not loop.last }}
    {% endfor %}
{% endtest %}
