-- One row per youth who touched foster care (child welfare) or juvenile services: when each
-- system first saw them, and, for crossover youth (both), which came first and how long between.

with

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

child_welfare as (

    select
        person_key,
        min(removal_date) as first_child_welfare_date
    from {{ ref('stg_child_welfare__placements') }}
    group by person_key

),

juvenile as (

    select
        person_key,
        min(intake_date) as first_juvenile_date
    from {{ ref('stg_juvenile_services__intakes') }}
    group by person_key

),

-- A juvenile intake while a placement is open is the "dually involved" form of crossover.
concurrent as (

    select distinct intakes.person_key
    from {{ ref('stg_juvenile_services__intakes') }} as intakes
    inner join {{ ref('stg_child_welfare__placements') }} as placements
        on
            intakes.person_key = placements.person_key
            and intakes.intake_date between placements.placement_start
            and coalesce(placements.placement_end, intakes.intake_date)

),

youth as (

    select
        coalesce(child_welfare.person_key, juvenile.person_key) as person_key,
        child_welfare.first_child_welfare_date,
        juvenile.first_juvenile_date
    from child_welfare
    full outer join juvenile using (person_key)

),

timed as (

    select
        *,
        first_child_welfare_date is not null and first_juvenile_date is not null as is_crossover,
        datediff('day', first_child_welfare_date, first_juvenile_date) as days_child_welfare_to_juvenile
    from youth

),

final as (

    select
        timed.person_key,
        timed.first_child_welfare_date,
        timed.first_juvenile_date,
        timed.is_crossover,
        case
            when not timed.is_crossover then null
            when timed.days_child_welfare_to_juvenile > 0 then 'child_welfare_first'
            when timed.days_child_welfare_to_juvenile < 0 then 'juvenile_services_first'
            else 'same_day'
        end as sequence,
        abs(timed.days_child_welfare_to_juvenile) as days_between,
        case
            when not timed.is_crossover then null
            when abs(timed.days_child_welfare_to_juvenile) = 0 then '0 same day'
            when abs(timed.days_child_welfare_to_juvenile) <= 182 then '1 under 6 months'
            when abs(timed.days_child_welfare_to_juvenile) <= 365 then '2 6-12 months'
            when abs(timed.days_child_welfare_to_juvenile) <= 730 then '3 1-2 years'
            when abs(timed.days_child_welfare_to_juvenile) <= 1826 then '4 2-5 years'
            else '5 over 5 years'
        end as time_between_band,
        concurrent.person_key is not null as is_dually_involved,
        {{ age_band(age_at(
            'spine.birth_year', 'spine.birth_month',
            'least(timed.first_child_welfare_date, timed.first_juvenile_date)'
        )) }}
            as age_band_at_first_contact,
        spine.sex,
        spine.race_ethnicity,
        spine.neighbourhood
    from timed
    inner join spine using (person_key)
    left join concurrent using (person_key)

)

select * from final
