{#- A share in [0, 1], null when the denominator is zero. -#}
{% macro rate(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}
