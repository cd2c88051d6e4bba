-- Every service contact across agencies as one episode: who, which agency and programme, when,
-- where: the hub-wide service history for analysts. Use-case marts read the narrower models
-- (int_summer_episodes, staging) so their lineage stays inside their data-sharing agreement.
-- Vital records are events, not services, and are used directly by the young_parents models.

with

schools as (

    select
        person_key, record_token, row_token as source_ref, 'city_schools' as agency, 'education' as service_type,
        'school_enrollment' as program, school_id as provider,
        entry_date as start_date, exit_date as end_date, neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_city_schools__enrollments') }}

),

child_welfare as (

    select
        person_key, record_token, row_token as source_ref, 'child_welfare' as agency, 'foster_care' as service_type,
        placement_type as program, cast(null as varchar) as provider,
        placement_start as start_date, placement_end as end_date, neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_child_welfare__placements') }}

),

juvenile_services as (

    select
        person_key, record_token, row_token as source_ref, 'juvenile_services' as agency, 'juvenile_justice' as service_type,
        offense_category as program, intake_decision as provider,
        intake_date as start_date, intake_date as end_date, neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_juvenile_services__intakes') }}

),

hmis as (

    select
        person_key, record_token, row_token as source_ref, 'hmis' as agency, 'homeless_services' as service_type,
        project_type as program, cast(null as varchar) as provider,
        entry_date as start_date, exit_date as end_date, neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_hmis__enrollments') }}

),

-- Public housing arrives as dated snapshots: a tenancy runs from move-in (or the first snapshot
-- that lists the person) to the last snapshot that lists them.
public_housing as (

    select
        person_key, any_value(record_token) as record_token, 'household ' || household_token || ' ' || program as source_ref, 'public_housing' as agency,
        'housing_assistance' as service_type, program, household_token as provider,
        coalesce(min(move_in_date), min(snapshot_date)) as start_date,
        max(snapshot_date) as end_date, arg_max(neighbourhood, snapshot_date) as neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_public_housing__household_members') }}
    group by person_key, program, household_token

),

early_childhood as (

    select
        person_key, record_token, row_token as source_ref, 'early_childhood' as agency, 'early_childhood' as service_type,
        program_type as program, site as provider, enroll_date as start_date,
        exit_date as end_date, neighbourhood,
        false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_early_childhood__enrollments') }}

),

wages as (

    select
        person_key, record_token, row_token as source_ref, 'wage_records' as agency, 'employment' as service_type,
        'wages' as program, employer_token as provider,
        {{ quarter_start('year_qtr') }} as start_date, {{ quarter_end('year_qtr') }} as end_date,
        neighbourhood, false as is_summer_program, cast(null as integer) as summer_year
    from {{ ref('stg_wage_records__wages') }}
    where wages > 0

),

unioned as (

    select * from schools
    union all select * from child_welfare
    union all select * from juvenile_services
    union all select * from hmis
    union all select * from public_housing
    union all select * from early_childhood
    union all select * from wages

),

others as (

    select
        {{ episode_columns() }}
    from unioned

),

final as (

    select * from {{ ref('int_summer_episodes') }}
    union all
    select * from others

)

select * from final
