-- Each use case's headline rate for each subpopulation (int_subpopulations) against all youth
-- in the same population ('all_youth': everyone measured, in any subpopulation or none, each
-- counted once; a youth can be in several subpopulations). Membership: in the subpopulation in
-- the period's school year or any earlier one. The measures and who each covers:
-- int_headline_measures (opportunity_youth by earlier system involvement: the pathways into
-- disconnection).

with

subpopulations as (

    select * from {{ ref('int_subpopulations') }}

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
    -- A measure's own subpopulation is 100% by definition: not shown against itself.
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
