-- One row per youth and summer who was either enrolled in City Schools the school year before or
-- took part in a summer programme: the person-level base of the participation rates and gaps.

with

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

participants as (

    select
        person_key,
        summer_year,
        count(*) as providers_used
    from {{ ref('int_summer_participation') }}
    group by person_key, summer_year

),

-- Only summers some provider has reported: a summer with no data yet is not a 0% summer.
reported_summers as (

    select distinct summer_year from participants

),

enrolled as (

    select
        person_key,
        summer_year
    from {{ ref('int_youth_population') }}
    where
        population = 'enrolled_students'
        and summer_year in (select reported_summers.summer_year from reported_summers)

),

youth as (

    select
        coalesce(participants.person_key, enrolled.person_key) as person_key,
        coalesce(participants.summer_year, enrolled.summer_year) as summer_year,
        participants.person_key is not null as is_participant,
        enrolled.person_key is not null as is_enrolled,
        coalesce(participants.providers_used, 0) as providers_used
    from participants
    full outer join enrolled using (person_key, summer_year)

),

final as (

    select
        youth.*,
        {{ age_band(age_at('spine.birth_year', 'spine.birth_month', summer_start('youth.summer_year'))) }} as age_band,
        spine.sex,
        spine.race_ethnicity,
        spine.neighbourhood
    from youth
    inner join spine using (person_key)

)

select * from final
