{#- Each use case's headline rate for the members of some subpopulations against all youth in the
    same population ('all_youth': everyone measured, in any subpopulation or none, each counted
    once; a youth can be in several subpopulations). `subpopulations`: a relation of person_key,
    school_year and subpopulation; a youth counts as a member in that school year and every later
    one. The measures and who each covers: int_headline_measures. A measure's own subpopulation is
    100% by definition and is not shown against itself. The marts call this with the relation
    they may read, so each mart's lineage reaches only its own subpopulations' sources. -#}
{% macro headline_rates_against_all_youth(subpopulations) %}

with

subpopulations as (

    select * from {{ subpopulations }}

),

measured as (

    select * from {{ ref('int_headline_measures') }}

),

grouped as (

    select
        measured.measure,
        measured.period,
        measured.person_key,
        measured.in_measure,
        'all_youth' as subpopulation
    from measured
    union all
    select distinct
        measured.measure,
        measured.period,
        measured.person_key,
        measured.in_measure,
        subpopulations.subpopulation
    from measured
    inner join subpopulations
        on
            measured.person_key = subpopulations.person_key
            and measured.school_year >= subpopulations.school_year
    where subpopulations.subpopulation <> measured.measure

),

final as (

    select
        measure,
        period,
        subpopulation,
        count(distinct person_key) as youth,
        count(distinct person_key) filter (where in_measure) as youth_in_measure,
        {{ rate('count(distinct person_key) filter (where in_measure)', 'count(distinct person_key)') }} as rate
    from grouped
    group by measure, period, subpopulation

)

select * from final

{% endmacro %}
