-- One row per youth, summer, provider and week of summer in which they took part. Each episode
-- is clipped to its summer's weeks and counts in every week from the one it starts in to the one
-- it ends in; overlapping episodes count once per week.

with

summer_episodes as (

    select
        person_key,
        agency as provider,
        summer_year,
        greatest(start_date, {{ summer_start('summer_year') }}) as clipped_start,
        -- An open episode (no end date yet) is known to have run on its start date only.
        least(coalesce(end_date, start_date), {{ summer_end('summer_year') }}) as clipped_end
    from {{ ref('int_summer_episodes') }}
    where is_summer_program

),

spans as (

    select
        person_key,
        provider,
        summer_year,
        {{ week_of_summer('clipped_start') }} as first_week,
        {{ week_of_summer('clipped_end') }} as last_week
    from summer_episodes
    -- Episodes entirely outside the summer weeks have no weeks (they still count as
    -- participation in int_summer_participation).
    where clipped_start <= clipped_end

),

episode_weeks as (

    select distinct
        person_key,
        summer_year,
        provider,
        cast(unnest(range(first_week, last_week + 1)) as integer) as week_of_summer
    from spans

),

final as (

    select
        person_key,
        summer_year,
        provider,
        week_of_summer,
        {{ summer_start('summer_year') }} + 7 * (week_of_summer - 1) as week_start
    from episode_weeks

)

select * from final
