-- Each use case's headline rate for youth served by public behavioural health
-- (int_subpopulations_behavioral_health: mental health or substance-use treatment) against all
-- youth in the same population ('all_youth': everyone measured, each counted once, as in
-- headline_rates_by_subpopulation). Membership: served in the period's school year or any
-- earlier one. The measures and who each covers: int_headline_measures.
-- A table of its own so that only it reaches behavioural-health records: it alone is held to
-- their stricter disclosure threshold (governance.yaml source_rules).

with

served as (

    select * from {{ ref('int_subpopulations_behavioral_health') }}

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
        served.subpopulation
    from measured
    inner join served
        on
            measured.person_key = served.person_key
            and measured.school_year >= served.school_year

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
