{#- The summer calendar. Summer of year Y starts on the first Monday on or after
    (summer_start_month, summer_start_day) of Y and lasts summer_weeks weeks, Monday to Sunday. -#}

{% macro summer_start(year) -%}
    (make_date(cast({{ year }} as integer), {{ var('summer_start_month') }}, {{ var('summer_start_day') }})
     + cast((8 - isodow(make_date(cast({{ year }} as integer), {{ var('summer_start_month') }}, {{ var('summer_start_day') }}))) % 7 as integer))
{%- endmacro %}

{% macro summer_end(year) -%}
    ({{ summer_start(year) }} + {{ var('summer_weeks') * 7 - 1 }})
{%- endmacro %}

{#- Week of summer (1..summer_weeks) that a date falls in; null outside the summer. -#}
{% macro week_of_summer(date) -%}
    (case
        when cast({{ date }} as date) between {{ summer_start('year(' ~ date ~ ')') }}
                                          and {{ summer_end('year(' ~ date ~ ')') }}
        then cast(floor(datediff('day', {{ summer_start('year(' ~ date ~ ')') }}, cast({{ date }} as date)) / 7) as integer) + 1
    end)
{%- endmacro %}
