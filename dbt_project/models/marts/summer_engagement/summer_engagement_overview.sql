-- Headline numbers per summer: unduplicated youth served by any summer provider, the sum of
-- per-provider counts (what adding agency reports would give), youth in two or more
-- programmes, and participation against City Schools enrolment.

with

youth as (

    select * from {{ ref('int_summer_youth') }}

),

provider_counts as (

    select
        summer_year,
        count(*) as provider_participations
    from {{ ref('int_summer_participation') }}
    group by summer_year

),

final as (

    select
        youth.summer_year,
        count(distinct youth.person_key) filter (where youth.is_participant) as participants,
        coalesce(any_value(provider_counts.provider_participations), 0) as provider_participations,
        count(distinct youth.person_key) filter (where youth.providers_used >= 2) as participants_in_two_or_more,
        count(distinct youth.person_key) filter (where youth.is_enrolled) as enrolled_youth,
        count(distinct youth.person_key) filter (where youth.is_enrolled and youth.is_participant)
            as enrolled_participants,
        {{ rate('count(distinct youth.person_key) filter (where youth.is_enrolled and youth.is_participant)',
                'count(distinct youth.person_key) filter (where youth.is_enrolled)') }} as participation_rate
    from youth
    left join provider_counts using (summer_year)
    group by youth.summer_year

)

select * from final
