-- Participation by age band, sex and race/ethnicity, one dimension at a time (long format:
-- dimension names the grouping, group_value its value). Same measures as by neighbourhood.

with

youth as (

    select * from {{ ref('int_summer_youth') }}

),

long as (

    select
        summer_year,
        person_key,
        is_enrolled,
        is_participant,
        'age_band' as dimension,
        age_band as group_value
    from youth
    union all
    select
        summer_year,
        person_key,
        is_enrolled,
        is_participant,
        'sex' as dimension,
        sex
    from youth
    union all
    select
        summer_year,
        person_key,
        is_enrolled,
        is_participant,
        'race_ethnicity' as dimension,
        race_ethnicity
    from youth

),

final as (

    select
        summer_year,
        dimension,
        group_value,
        count(distinct person_key) filter (where is_enrolled) as enrolled_youth,
        count(distinct person_key) filter (where is_enrolled and is_participant) as enrolled_participants,
        {{ rate('count(distinct person_key) filter (where is_enrolled and is_participant)',
                'count(distinct person_key) filter (where is_enrolled)') }} as participation_rate,
        count(distinct person_key) filter (where is_participant) as participants
    from long
    group by summer_year, dimension, group_value

)

select * from final
