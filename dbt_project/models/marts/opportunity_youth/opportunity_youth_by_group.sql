-- Opportunity youth (16-24, neither enrolled nor working over the period) by age band, sex,
-- race/ethnicity, neighbourhood and prior involvement (long format), with the whole city as
-- dimension 'all'. Prior involvement is what began by the period's end on the pathway: household
-- benefits (TANF/SNAP, social services), an adult booking (adult justice), both, or neither.

with

opportunity_youth as (

    select * from {{ ref('int_opportunity_youth') }}

),

pathways as (

    select * from {{ ref('int_pathway_involvement') }}

),

involvement as (

    select
        opportunity_youth.*,
        coalesce(pathways.first_benefit_date <= opportunity_youth.period_end, false) as benefits_before,
        coalesce(pathways.first_adult_booking_date <= opportunity_youth.period_end, false) as booked_before
    from opportunity_youth
    left join pathways using (person_key)

),

youth as (

    select
        *,
        case
            when benefits_before and booked_before then 'benefits_and_adult_booking'
            when benefits_before then 'household_benefits'
            when booked_before then 'adult_booking'
            else 'neither'
        end as prior_involvement
    from involvement

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
    union all
    select
        period_end_quarter,
        person_key,
        is_enrolled,
        is_working,
        is_opportunity_youth,
        'prior_involvement' as dimension,
        prior_involvement
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
