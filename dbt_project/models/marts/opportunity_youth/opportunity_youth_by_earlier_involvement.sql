-- The share of 16-24-year-olds disconnected (neither enrolled nor working over the period), by
-- what they were involved in earlier: each subpopulation (foster care, homelessness, public
-- housing, juvenile justice, young parenthood, chronic absence) in any school year that began
-- before the period ended, household TANF/SNAP benefits or an adult booking begun by its end.
-- A youth can have several earlier involvements (the groups overlap), or none; 'All' counts
-- everyone once.

with

opportunity_youth as (

    select * from {{ ref('int_opportunity_youth') }}

),

subpopulations as (

    select * from {{ ref('int_subpopulations') }}

),

pathways as (

    select * from {{ ref('int_pathway_involvement') }}

),

earlier_subpopulations as (

    select distinct
        opportunity_youth.person_key,
        subpopulations.subpopulation as earlier_involvement
    from opportunity_youth
    inner join subpopulations
        on
            opportunity_youth.person_key = subpopulations.person_key
            and {{ school_year_start('subpopulations.school_year') }} <= opportunity_youth.period_end

),

earlier_pathways as (

    select
        opportunity_youth.person_key,
        'household_benefits' as earlier_involvement
    from opportunity_youth
    inner join pathways using (person_key)
    where pathways.first_benefit_date <= opportunity_youth.period_end
    union all
    select
        opportunity_youth.person_key,
        'adult_booking' as earlier_involvement
    from opportunity_youth
    inner join pathways using (person_key)
    where pathways.first_adult_booking_date <= opportunity_youth.period_end

),

earlier as (

    select * from earlier_subpopulations
    union all
    select * from earlier_pathways

),

grouped as (

    select
        opportunity_youth.period_end_quarter,
        opportunity_youth.person_key,
        opportunity_youth.is_opportunity_youth,
        earlier.earlier_involvement
    from opportunity_youth
    inner join earlier using (person_key)
    union all
    select
        period_end_quarter,
        person_key,
        is_opportunity_youth,
        'none' as earlier_involvement
    from opportunity_youth
    where person_key not in (select earlier.person_key from earlier)
    union all
    select
        period_end_quarter,
        person_key,
        is_opportunity_youth,
        'All' as earlier_involvement
    from opportunity_youth

),

final as (

    select
        period_end_quarter,
        earlier_involvement,
        count(distinct person_key) as youth_16_24,
        count(distinct person_key) filter (where is_opportunity_youth) as opportunity_youth,
        {{ rate('count(distinct person_key) filter (where is_opportunity_youth)', 'count(distinct person_key)') }}
            as opportunity_youth_rate
    from grouped
    group by period_end_quarter, earlier_involvement

)

select * from final
