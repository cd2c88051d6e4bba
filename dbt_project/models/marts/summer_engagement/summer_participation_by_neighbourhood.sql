-- Participation by home neighbourhood (community statistical area, from the spine): enrolled
-- youth living there, how many of them took part in any summer programme, and the rate.
-- participants also counts youth not enrolled in City Schools.

with

youth as (

    select * from {{ ref('int_summer_youth') }}

),

final as (

    select
        summer_year,
        neighbourhood,
        count(distinct person_key) filter (where is_enrolled) as enrolled_youth,
        count(distinct person_key) filter (where is_enrolled and is_participant) as enrolled_participants,
        {{ rate('count(distinct person_key) filter (where is_enrolled and is_participant)',
                'count(distinct person_key) filter (where is_enrolled)') }} as participation_rate,
        count(distinct person_key) filter (where is_participant) as participants
    from youth
    group by summer_year, neighbourhood

)

select * from final
