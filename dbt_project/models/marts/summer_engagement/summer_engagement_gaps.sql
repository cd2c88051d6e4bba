-- Gaps: neighbourhoods and groups whose participation rate lags the city-wide rate, ranked by
-- shortfall (how many more enrolled youth would have taken part at the city-wide rate).
-- Groups with fewer than gap_min_enrolled_youth enrolled youth are listed but not ranked.

with

groups as (

    select
        summer_year,
        'neighbourhood' as dimension,
        neighbourhood as group_value,
        enrolled_youth,
        enrolled_participants,
        participation_rate
    from {{ ref('summer_participation_by_neighbourhood') }}
    union all
    select
        summer_year,
        dimension,
        group_value,
        enrolled_youth,
        enrolled_participants,
        participation_rate
    from {{ ref('summer_participation_by_group') }}

),

citywide as (

    select
        summer_year,
        participation_rate as citywide_rate
    from {{ ref('summer_engagement_overview') }}

),

measured as (

    select
        groups.*,
        citywide.citywide_rate,
        citywide.citywide_rate - groups.participation_rate as rate_gap,
        greatest(cast(ceil(citywide.citywide_rate * groups.enrolled_youth) as bigint) - groups.enrolled_participants, 0)
            as participants_short
    from groups
    inner join citywide using (summer_year)
    where groups.enrolled_youth > 0

),

final as (

    select
        summer_year,
        dimension,
        group_value,
        enrolled_youth,
        enrolled_participants,
        participation_rate,
        citywide_rate,
        rate_gap,
        participants_short,
        case
            when enrolled_youth >= {{ var('gap_min_enrolled_youth') }} and participants_short > 0 then
                rank() over (
                    partition by
                        summer_year, enrolled_youth >= {{ var('gap_min_enrolled_youth') }} and participants_short > 0
                    order by participants_short desc, rate_gap desc
                )
        end as gap_rank
    from measured

)

select * from final
