{#- Totals over groups one person can belong to several of (schools, age bands of a mother with two
    births): a row 'All' per value of the kept dimensions, counting each person once. A sum of the
    groups' rows would count a person in two groups twice, so the publisher never adds one along
    these dimensions (they are left out of meta.publish.exclusive); the mart computes it here, with
    the same count(distinct ...) expressions as the groups' rows.

    Use both macros in one select: `all_or` for each overlapping dimension (and any label that
    follows it), `group_by_with_all` in place of the group by. With several overlapping
    dimensions every combination of them is rolled up. -#}
{% macro group_by_with_all(kept, overlapping) -%}
    {%- set sets = [] -%}
    {%- for i in range(2 ** (overlapping | length)) -%}
        {%- set chosen = [] -%}
        {%- for column in overlapping -%}
            {%- if (i // (2 ** loop.index0)) % 2 == 0 -%}{%- do chosen.append(column) -%}{%- endif -%}
        {%- endfor -%}
        {%- do sets.append('(' ~ (kept + chosen) | join(', ') ~ ')') -%}
    {%- endfor -%}
    group by grouping sets ({{ sets | join(', ') }})
{%- endmacro %}

{#- The dimension's value, or 'All' on the rows that roll it up; `expression` for a label that
    follows it (e.g. any_value(school_name) for school_id). -#}
{% macro all_or(dimension, expression=none) -%}
    case when grouping({{ dimension }}) = 1 then 'All' else {{ expression or dimension }} end
{%- endmacro %}
