-- Unduplicated youth active in any summer programme in each week of the summer.

with

weeks as (

    select * from {{ ref('int_summer_weeks') }}

),

final as (

    select
        summer_year,
        week_of_summer,
        week_start,
        count(distinct person_key) as participants
    from weeks
    group by summer_year, week_of_summer, week_start

)

select * from final
