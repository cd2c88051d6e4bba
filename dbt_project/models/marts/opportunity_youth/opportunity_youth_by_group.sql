-- Opportunity youth (16-24, neither enrolled nor working over the period) by age band, sex,
-- race/ethnicity and neighbourhood (long format), with the whole city as dimension 'all'.

with

youth as (

    select * from {{ ref('int_opportunity_youth') }}

),

long as (

    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'all' as dimension,
        'all' as group_value
    from youth
    union all
    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'age_band' as dimension,
        age_band
    from youth
    union all
    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'sex' as dimension,
        sex
    from youth
    union all
    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'race_ethnicity' as dimension,
        race_ethnicity
    from youth
    union all
    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'neighbourhood' as dimension,
        neighbourhood
    from youth

),

final as (

    select
        period_end_quarter,
        dimension,
        group_value,
        count(distinct person_key) as youth_16_24,
        count(distinct person_key) filter (where is_enrolled) as enrolled_youth,
        count(distinct person_key) filter (where is_working) as working_youth,
        count(distinct person_key) filter (where is_opportunity_youth) as opportunity_youth,
        {{ rate('count(distinct person_key) filter (where is_opportunity_youth)', 'count(distinct person_key)') }}
            as opportunity_youth_rate
    from long
    group by period_end_quarter, dimension, group_value

)

select * from final
