-- Youth served by each summer provider, and how many of them only that provider reached.

with

participation as (

    select * from {{ ref('int_summer_participation') }}

),

providers_per_youth as (

    select
        person_key,
        summer_year,
        count(*) as providers_used
    from participation
    group by person_key, summer_year

),

final as (

    select
        participation.summer_year,
        participation.provider,
        count(distinct participation.person_key) as participants,
        count(distinct participation.person_key) filter (where providers_per_youth.providers_used = 1)
            as participants_only_this_provider,
        count(distinct participation.person_key) filter (where providers_per_youth.providers_used > 1)
            as participants_also_elsewhere
    from participation
    inner join providers_per_youth using (person_key, summer_year)
    group by participation.summer_year, participation.provider

)

select * from final
