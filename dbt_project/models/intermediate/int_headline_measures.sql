-- Each use case's headline measure, person by person: who the measure covers in its latest
-- period, the school year that period falls in (subpopulation membership counts that school year
-- or any earlier one) and whether the measure counts them. Read by every table breaking the
-- headline rates out by subpopulation, so that each reads the same people and the same rule.
--   summer_participation: enrolled students (school year before summer Y) who took part in a
--     summer programme in summer Y, for the latest summer on file;
--   homelessness: students (latest school year) identified as experiencing homelessness;
--   chronic_absence: students (latest school year) attending under 90% of enrolled days;
--   opportunity_youth: youth aged 16-24 neither enrolled nor working (int_opportunity_youth).

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

final as (

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

)

select * from final
