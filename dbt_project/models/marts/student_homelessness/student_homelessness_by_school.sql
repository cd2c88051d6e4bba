-- Students experiencing homelessness or housing insecurity per school and school year, by
-- source: the school's McKinney-Vento flag, HMIS, public housing; and how many each of the
-- other sources adds beyond the flag (students the school had not identified). A student who
-- attended two schools counts at each; the row school_id = 'All' counts them once.

with

students as (

    select * from {{ ref('int_student_housing_status') }}

),

final as (

    select
        school_year,
        {{ all_or('school_id') }} as school_id,
        {{ all_or('school_id', 'any_value(school_name)') }} as school_name,
        count(distinct person_key) as enrolled_students,
        count(distinct person_key) filter (where flagged_mckinney_vento) as mckinney_vento_students,
        count(distinct person_key) filter (where in_hmis) as hmis_students,
        count(distinct person_key) filter (where in_public_housing) as public_housing_students,
        count(distinct person_key) filter (where identified_any_source) as identified_students,
        count(distinct person_key) filter (where in_hmis and not flagged_mckinney_vento) as hmis_added_beyond_flag,
        count(distinct person_key) filter (
            where in_public_housing and not flagged_mckinney_vento
        ) as public_housing_added_beyond_flag,
        count(distinct person_key) filter (
            where identified_any_source and not flagged_mckinney_vento
        ) as added_beyond_flag,
        {{ rate(
            'count(distinct person_key) filter (where identified_any_source)',
            'count(distinct person_key)'
        ) }} as identified_rate
    from students
    {{ group_by_with_all(['school_year'], ['school_id']) }}  -- noqa: PRS

)

select * from final
