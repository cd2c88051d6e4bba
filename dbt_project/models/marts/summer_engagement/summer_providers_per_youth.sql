-- How many summer providers each youth used: the distribution behind "served more than once".

with

youth as (

    select * from {{ ref('int_summer_youth') }}
    where is_participant

),

final as (

    select
        summer_year,
        providers_used,
        count(distinct person_key) as participants
    from youth
    group by summer_year, providers_used

)

select * from final
