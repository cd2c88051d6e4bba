-- Denominators, one row per person per population and period:
--   enrolled_students: everyone enrolled in City Schools during a school year, aged at the start
--     of the following summer. The base of the summer participation rate (summer Y is measured
--     against school year Y-1 to Y).
--   known_youth: everyone on the spine aged 5-24 at the start of a summer the data covers: the
--     youth the hub knows of (not a census: youth no agency served are missing).
-- Demographics come from the spine, so numerators and denominators group people alike.

with

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

enrolments as (

    select distinct
        person_key,
        school_year
    from {{ ref('stg_city_schools__enrollments') }}

),

enrolled_students as (

    select
        'enrolled_students' as population,
        school_year as period,
        cast(left(school_year, 4) as integer) + 1 as summer_year,
        person_key
    from enrolments

),

summers as (

    select distinct summer_year from {{ ref('int_summer_participation') }}
    union
    select distinct summer_year from enrolled_students

),

known_youth as (

    select
        'known_youth' as population,
        cast(summers.summer_year as varchar) as period,
        summers.summer_year,
        spine.person_key
    from summers
    cross join spine
    where {{ age_at('spine.birth_year', 'spine.birth_month', summer_start('summers.summer_year')) }} between 5 and 24

),

populations as (

    select * from enrolled_students
    union all
    select * from known_youth

),

final as (

    select
        populations.population,
        populations.period,
        populations.summer_year,
        {{ summer_start('populations.summer_year') }} as reference_date,
        populations.person_key,
        {{ age_at('spine.birth_year', 'spine.birth_month', summer_start('populations.summer_year')) }} as age,
        {{ age_band(age_at('spine.birth_year', 'spine.birth_month', summer_start('populations.summer_year'))) }}
            as age_band,
        spine.sex,
        spine.race_ethnicity,
        spine.neighbourhood
    from populations
    inner join spine using (person_key)

)

select * from final
