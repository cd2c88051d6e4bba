-- Each use case's headline rate for each subpopulation (int_subpopulations) against all youth
-- in the same population ('all_youth': everyone measured, in any subpopulation or none, each
-- counted once; a youth can be in several subpopulations). Membership: in the subpopulation in
-- the period's school year or any earlier one.
--   summer_participation: enrolled students (school year before summer Y) who took part in a
--     summer programme in summer Y, for the latest summer on file;
--   homelessness: students (latest school year) identified as experiencing homelessness;
--   chronic_absence: students (latest school year) attending under 90% of enrolled days;
--   opportunity_youth: youth aged 16-24 neither enrolled nor working (int_opportunity_youth), by
--     earlier system involvement: the pathways into disconnection.

with

subpopulations as (

    select * from {{ ref('int_subpopulations') }}

),

summer_youth as (

    select * from {{ ref('int_summer_youth') }}

),

opportunity as (

    select * from {{ ref('int_opportunity_youth') }}

),

enrolments as (

    select distinct
        person_key,
        school_year
    from {{ ref('stg_city_schools__enrollments') }}
    where person_key is not null

),

latest_summer as (

    select max(summer_year) as summer_year from summer_youth
    where is_enrolled and is_participant

),

latest_school_year as (

    select max(school_year) as school_year from enrolments

),

measured as (

    select
        'summer_participation' as measure,
        cast(summer_youth.summer_year as varchar) as period,
        (summer_youth.summer_year - 1) || '-' || right(cast(summer_youth.summer_year as varchar), 2) as school_year,
        summer_youth.person_key,
        summer_youth.is_participant as in_measure
    from summer_youth
    inner join latest_summer using (summer_year)
    where summer_youth.is_enrolled
    union all
    -- Students of the latest school year in a school-year subpopulation that year.
    select
        school_measures.measure,
        enrolments.school_year,
        enrolments.school_year,
        enrolments.person_key,
        exists(
            select 1 from subpopulations as s
            where
                s.person_key = enrolments.person_key and s.subpopulation = school_measures.measure
                and s.school_year = enrolments.school_year
        )
    from enrolments
    inner join latest_school_year using (school_year)
    cross join (values ('homelessness'), ('chronic_absence')) as school_measures (measure)
    union all
    select
        'opportunity_youth',
        opportunity.period_end_quarter,
        case
            when month(opportunity.period_end) >= {{ var('school_year_start_month') }}
                then year(opportunity.period_end) || '-' || right(cast(year(opportunity.period_end) + 1 as varchar), 2)
            else (year(opportunity.period_end) - 1) || '-' || right(cast(year(opportunity.period_end) as varchar), 2)
        end,
        opportunity.person_key,
        opportunity.is_opportunity_youth
    from opportunity

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
