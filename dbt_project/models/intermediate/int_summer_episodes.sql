-- Every episode with the four summer providers (Recreation and Parks, YouthWorks, the Summer
-- Funding Collaborative's grantees, Family League), with the summer flag decided once here:
-- rec_parks registrations that run during that year's summer weeks, every YouthWorks placement
-- and Summer Funding participant, and Family League summer sessions. Summer use cases read this
-- model, not int_service_episodes, so their lineage reaches only the sources their data-sharing
-- agreement covers.

with

rec_parks as (

    select
        person_key, record_token, row_token as source_ref, 'rec_parks' as agency, 'recreation' as service_type,
        program, site as provider, start_date, end_date, neighbourhood,
        -- A registration is a summer programme when it runs during that year's summer weeks.
        start_date <= {{ summer_end('year(start_date)') }}
            and coalesce(end_date, start_date) >= {{ summer_start('year(start_date)') }} as is_summer_program,
        year(start_date) as summer_year
    from {{ ref('stg_rec_parks__registrations') }}

),

youthworks as (

    select
        person_key, record_token, row_token as source_ref, 'youthworks' as agency, 'summer_jobs' as service_type,
        'YouthWorks' as program, worksite as provider, start_date, end_date, neighbourhood,
        true as is_summer_program, cast(summer as integer) as summer_year
    from {{ ref('stg_youthworks__placements') }}

),

summer_funding as (

    select
        person_key, record_token, row_token as source_ref, 'summer_funding' as agency, 'summer_program' as service_type,
        program_name as program, grantee as provider, program_start as start_date,
        program_end as end_date, neighbourhood,
        true as is_summer_program, cast(summer as integer) as summer_year
    from {{ ref('stg_summer_funding__participants') }}

),

family_league as (

    select
        person_key, record_token, row_token as source_ref, 'family_league' as agency, 'out_of_school_time' as service_type,
        program, provider, session_start as start_date, session_end as end_date, neighbourhood,
        session_type = 'summer' as is_summer_program, year(session_start) as summer_year
    from {{ ref('stg_family_league__attendance') }}

),

unioned as (

    select * from rec_parks
    union all select * from youthworks
    union all select * from summer_funding
    union all select * from family_league

),

final as (

    select
        {{ episode_columns() }}
    from unioned

)

select * from final
