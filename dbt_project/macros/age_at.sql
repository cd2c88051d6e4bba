{#- Age in completed years at a date, from birth year and month only (the warehouse never holds
    the day). The birthday is taken to be the first of the birth month, so a person born in
    March is a year older from 1 March. Unknown month: mid-year (July). Unknown year: null. -#}
{% macro age_at(birth_year, birth_month, at_date) -%}
    (year(cast({{ at_date }} as date)) - {{ birth_year }}
     - case when month(cast({{ at_date }} as date)) < coalesce({{ birth_month }}, 7) then 1 else 0 end)
{%- endmacro %}

{#- Age bands shared by every use case: they nest school stages (5-10 elementary, 11-13 middle,
    14-17 high school) and the opportunity-youth and young-parent bands (16-17, 18-19, 20-24). -#}
{% macro age_band(age) -%}
    (case
        when {{ age }} is null then 'unknown'
        when {{ age }} < 0 then 'unknown'
        when {{ age }} <= 4 then '0-4'
        when {{ age }} <= 10 then '5-10'
        when {{ age }} <= 13 then '11-13'
        when {{ age }} <= 15 then '14-15'
        when {{ age }} <= 17 then '16-17'
        when {{ age }} <= 19 then '18-19'
        when {{ age }} <= 24 then '20-24'
        else '25+'
    end)
{%- endmacro %}
