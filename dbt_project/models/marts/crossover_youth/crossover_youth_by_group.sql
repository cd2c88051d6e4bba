-- Youth in each system and crossover youth by sex, race/ethnicity, neighbourhood and age band at
-- first contact (long format), with crossover as a share of each system's youth.

with

youth as (

    select * from {{ ref('int_crossover_youth') }}

),

long as (

    select
        person_key,
        first_child_welfare_date,
        first_juvenile_date,
        is_crossover,
        'sex' as dimension,
        sex as group_value
    from youth
    union all
    select
        person_key,
        first_child_welfare_date,
        first_juvenile_date,
        is_crossover,
        'race_ethnicity' as dimension,
        race_ethnicity
    from youth
    union all
    select
        person_key,
        first_child_welfare_date,
        first_juvenile_date,
        is_crossover,
        'neighbourhood' as dimension,
        neighbourhood
    from youth
    union all
    select
        person_key,
        first_child_welfare_date,
        first_juvenile_date,
        is_crossover,
        'age_band_at_first_contact' as dimension,
        age_band_at_first_contact
    from youth

),

final as (

    select
        dimension,
        group_value,
        count(distinct person_key) filter (where first_child_welfare_date is not null) as child_welfare_youth,
        count(distinct person_key) filter (where first_juvenile_date is not null) as juvenile_services_youth,
        count(distinct person_key) filter (where is_crossover) as crossover_youth,
        {{ rate('count(distinct person_key) filter (where is_crossover)',
                'count(distinct person_key) filter (where first_child_welfare_date is not null)') }} as crossover_share_of_child_welfare,
        {{ rate('count(distinct person_key) filter (where is_crossover)',
                'count(distinct person_key) filter (where first_juvenile_date is not null)') }} as crossover_share_of_juvenile_services
    from long
    group by dimension, group_value

)

select * from final
