-- Subpopulations, defined once: one row per person, subpopulation and school year in which the
-- person was in it (a record of the agency during that school year, 1 August to 31 July).
--   foster_care: a child welfare placement open during the year;
--   homelessness: a homeless services (HMIS) enrolment open during the year, or a City Schools
--     enrolment that year flagged McKinney-Vento;
--   public_housing: on a Housing Authority household roster that year (public housing or voucher);
--   justice_involved: a juvenile services intake or an adult booking (18 and over) during the year;
--   household_benefits: a member of a household receiving TANF or SNAP (social services) during
--     the year;
--   young_parent: gave birth aged 24 or under (int_young_parents' rule: birth on the first of
--     the child's birth month), from the school year of the birth on;
--   chronic_absence: enrolled in City Schools that year and attended under 90% of enrolled days.
-- A person can be in several subpopulations at once; every use case reads its subpopulations
-- from here, so a definition changes in one place.

with

placements as (

    select
        person_key,
        placement_start as start_date,
        coalesce(placement_end, current_date) as end_date
    from {{ ref('stg_child_welfare__placements') }}

),

hmis as (

    select
        person_key,
        entry_date as start_date,
        coalesce(exit_date, current_date) as end_date
    from {{ ref('stg_hmis__enrollments') }}

),

housing as (

    select
        person_key,
        snapshot_date as start_date,
        snapshot_date as end_date
    from {{ ref('stg_public_housing__household_members') }}

),

intakes as (

    select
        person_key,
        intake_date as start_date,
        intake_date as end_date
    from {{ ref('stg_juvenile_services__intakes') }}

),

bookings as (

    select
        person_key,
        booking_date as start_date,
        booking_date as end_date
    from {{ ref('stg_adult_justice__bookings') }}

),

benefits as (

    select
        person_key,
        spell_start as start_date,
        coalesce(spell_end, current_date) as end_date
    from {{ ref('stg_social_services__benefit_members') }}

),

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

-- Births read here, not through int_young_parents (which also reads early childhood, wages and
-- health), so a use case reading subpopulations reaches vital records alone for this one.
young_parents as (

    select
        births.mother_person_key as person_key,
        make_date(child.birth_year, coalesce(child.birth_month, 7), 1) as start_date,
        current_date as end_date
    from {{ ref('stg_vital_records__births') }} as births
    inner join spine as child on births.person_key = child.person_key
    inner join spine as mother on births.mother_person_key = mother.person_key
    where {{ age_at('mother.birth_year', 'mother.birth_month',
                    'make_date(child.birth_year, coalesce(child.birth_month, 7), 1)') }} <= 24

),

enrolments as (

    select
        person_key,
        school_year,
        bool_or(mckinney_vento) as mckinney_vento,
        {{ rate('sum(days_attended)', 'sum(days_enrolled)') }} as attendance_rate
    from {{ ref('stg_city_schools__enrollments') }}
    group by person_key, school_year

),

dated as (

    select
        'foster_care' as subpopulation,
        *
    from placements
    union all
    select
        'homelessness',
        *
    from hmis
    union all
    select
        'public_housing',
        *
    from housing
    union all
    select
        'justice_involved',
        *
    from intakes
    union all
    select
        'justice_involved',
        *
    from bookings
    union all
    select
        'household_benefits',
        *
    from benefits
    union all
    select
        'young_parent',
        *
    from young_parents

),

school_years as (

    select
        year_start,
        year_start || '-' || right(cast(year_start + 1 as varchar), 2) as school_year
    from range(
        (select min(year(start_date)) - 1 from dated),
        (select max(year(end_date)) + 1 from dated)
    ) as years (year_start)

),

by_year as (

    select distinct
        dated.person_key,
        dated.subpopulation,
        school_years.school_year
    from dated
    inner join school_years
        on
            dated.start_date <= {{ school_year_end('school_years.school_year') }}
            and dated.end_date >= {{ school_year_start('school_years.school_year') }}
    where dated.person_key is not null

),

from_school as (

    select
        person_key,
        'homelessness' as subpopulation,
        school_year
    from enrolments
    where mckinney_vento
    union all
    select
        person_key,
        'chronic_absence',
        school_year
    from enrolments
    where attendance_rate < 0.9

),

final as (

    select
        person_key,
        subpopulation,
        school_year
    from by_year
    union
    select
        person_key,
        subpopulation,
        school_year
    from from_school
    where person_key is not null

)

select * from final
