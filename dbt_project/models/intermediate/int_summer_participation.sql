-- One row per youth, summer and provider: who each summer provider served, with the number of
-- summer weeks they were active. The unit every summer_engagement mart counts.

with

summer_episodes as (

    select distinct
        person_key,
        summer_year,
        agency as provider
    from {{ ref('int_summer_episodes') }}
    where is_summer_program

),

weeks as (

    select
        person_key,
        summer_year,
        provider,
        count(*) as weeks_active
    from {{ ref('int_summer_weeks') }}
    group by all

),

final as (

    select
        summer_episodes.person_key,
        summer_episodes.summer_year,
        summer_episodes.provider,
        coalesce(weeks.weeks_active, 0) as weeks_active
    from summer_episodes
    left join weeks using (person_key, summer_year, provider)

)

select * from final
