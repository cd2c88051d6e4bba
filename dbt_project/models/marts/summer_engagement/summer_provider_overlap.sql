-- Overlap between summer providers: youth served by both of each pair of providers.

with

participation as (

    select distinct
        person_key,
        summer_year,
        provider
    from {{ ref('int_summer_participation') }}

),

pairs as (

    select
        a.summer_year,
        a.provider as provider_a,
        b.provider as provider_b,
        a.person_key
    from participation as a
    inner join participation as b
        on
            a.person_key = b.person_key
            and a.summer_year = b.summer_year
            and a.provider < b.provider

),

final as (

    select
        summer_year,
        provider_a,
        provider_b,
        count(distinct person_key) as shared_participants
    from pairs
    group by summer_year, provider_a, provider_b

)

select * from final
