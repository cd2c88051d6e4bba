-- Youth served by public behavioural health: one row per person and school year (1 August to
-- 31 July) with an encounter of the public behavioural health system that year, mental health or
-- substance-use treatment alike (subpopulation 'behavioral_health').
-- Defined apart from int_subpopulations, which every use case reads: governance.yaml holds
-- behavioural-health records to a stricter rule (42 CFR Part 2: a higher disclosure threshold,
-- never in an analyst export), and every model reading them is held to it. Only the models that
-- read this one reach them.

with

encounters as (

    select
        person_key,
        service_date
    from {{ ref('stg_behavioral_health__encounters') }}
    where person_key is not null

),

final as (

    select distinct
        person_key,
        'behavioral_health' as subpopulation,
        case
            when month(service_date) >= {{ var('school_year_start_month') }}
                then year(service_date) || '-' || right(cast(year(service_date) + 1 as varchar), 2)
            else (year(service_date) - 1) || '-' || right(cast(year(service_date) as varchar), 2)
        end as school_year
    from encounters

)

select * from final
