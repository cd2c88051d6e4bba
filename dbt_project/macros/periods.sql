{#- Calendar periods the agencies report in. -#}

{#- A school year "2025-26" runs from 1 August 2025 to 31 July 2026. -#}
{% macro school_year_start(school_year) -%}
    make_date(cast(left({{ school_year }}, 4) as integer), {{ var('school_year_start_month') }}, 1)
{%- endmacro %}

{% macro school_year_end(school_year) -%}
    (make_date(cast(left({{ school_year }}, 4) as integer) + 1, {{ var('school_year_start_month') }}, 1) - 1)
{%- endmacro %}

{#- A wage quarter "2025Q3" runs from 1 July 2025 to 30 September 2025. -#}
{% macro quarter_start(year_qtr) -%}
    make_date(cast(left({{ year_qtr }}, 4) as integer), 3 * cast(right({{ year_qtr }}, 1) as integer) - 2, 1)
{%- endmacro %}

{% macro quarter_end(year_qtr) -%}
    (cast({{ quarter_start(year_qtr) }} + interval 3 month as date) - 1)
{%- endmacro %}
