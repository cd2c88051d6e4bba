-- One row per student, school year and school: was the student identified as experiencing
-- homelessness or housing insecurity while enrolled there, and by which source?
--   mckinney_vento: the school's own flag on any enrolment row that year;
--   hmis: a homeless-services enrolment overlapping the student's time at the school;
--   public_housing: listed in a public housing / voucher household during that time.

with

enrolments as (

    select
        person_key,
        school_year,
        school_id,
        school_name,
        mckinney_vento,
        greatest(entry_date, {{ school_year_start('school_year') }}) as window_start,
        least(
            coalesce(exit_date, {{ school_year_end('school_year') }}), {{ school_year_end('school_year') }}
        ) as window_end
    from {{ ref('stg_city_schools__enrollments') }}

),

students as (

    select
        person_key,
        school_year,
        school_id,
        -- A school may be renamed mid-year; report the latest spelling.
        arg_max(school_name, window_start) as school_name,
        coalesce(bool_or(mckinney_vento), false) as flagged_mckinney_vento,
        min(window_start) as window_start,
        max(window_end) as window_end
    from enrolments
    group by person_key, school_year, school_id

),

-- `as materialized` keeps each side of the overlap joins below a single relation keyed by
-- person_key. Inlined, the staging view's crosswalk join lets DuckDB's join-order optimizer pair
-- students with raw.hmis on the date predicates alone (a range join over every student x every
-- enrolment; at 1M source rows it ran for minutes and filled the disk) and bring person_key in
-- only afterwards. Materialised, the join is a hash join on person_key, dates checked per match.
hmis as materialized (

    select
        person_key,
        entry_date as start_date,
        exit_date as end_date
    from {{ ref('stg_hmis__enrollments') }}

),

-- Public housing arrives as dated snapshots: a tenancy runs from move-in (or the first snapshot
-- listing the person) to the last snapshot listing them.
public_housing as materialized (

    select
        person_key,
        coalesce(min(move_in_date), min(snapshot_date)) as start_date,
        max(snapshot_date) as end_date
    from {{ ref('stg_public_housing__household_members') }}
    group by person_key, household_token

),

in_hmis as (

    select distinct
        students.person_key,
        students.school_year,
        students.school_id
    from students
    inner join hmis
        on hmis.person_key = students.person_key
        -- Open HMIS enrolments run to the end of the school year.
        and students.window_end >= hmis.start_date
        and coalesce(hmis.end_date, students.window_end) >= students.window_start

),

in_public_housing as materialized (

    select distinct
        students.person_key,
        students.school_year,
        students.school_id
    from students
    inner join public_housing
        on
            students.person_key = public_housing.person_key
            and students.window_end >= public_housing.start_date
            and students.window_start <= public_housing.end_date

),

final as (

    select
        students.person_key,
        students.school_year,
        students.school_id,
        students.school_name,
        students.flagged_mckinney_vento,
        in_hmis.person_key is not null as in_hmis,
        in_public_housing.person_key is not null as in_public_housing,
        students.flagged_mckinney_vento
        or in_hmis.person_key is not null
        or in_public_housing.person_key is not null as identified_any_source
    from students
    left join in_hmis using (person_key, school_year, school_id)
    left join in_public_housing using (person_key, school_year, school_id)

)

select * from final
