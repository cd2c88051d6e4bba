{#- Fails with one row per value outside its column's accepted list, naming column and value and
    counting rows (nulls are not values: required columns are checked by not_null_columns).
    ``columns`` maps each column to its accepted values; numbers are compared as numbers. One test
    (one Dagster check) per model: the generated staging models' coded columns were a dbt node and
    three Dagster events each. -#}
{% test accepted_values_columns(model, columns) %}
    {% for column, values in columns.items() -%}
    select '{{ column }}' as value_column, cast({{ column }} as varchar) as unexpected_value, count(*) as n_rows
    from {{ model }}
    where {{ column }} is not null
      and {{ column }} not in (
        {%- for value in values -%}
        {%- if value is number %}{{ value }}{% else %}'{{ value }}'{% endif %}{{ ", " if not loop.last }}
        {%- endfor -%})
    group by 1, 2
    {{ "union all" if not loop.last }}
    {% endfor %}
{% endtest %}
