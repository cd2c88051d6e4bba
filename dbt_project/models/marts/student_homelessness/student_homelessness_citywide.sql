-- City-wide totals per school year, each student counted once however many schools they attended.

with

students as (

    select
        person_key,
        school_year,
        bool_or(flagged_mckinney_vento) as flagged_mckinney_vento,
        bool_or(in_hmis) as in_hmis,
        bool_or(in_public_housing) as in_public_housing,
        bool_or(identified_any_source) as identified_any_source
    from {{ ref('int_student_housing_status') }}
    group by person_key, school_year

),

final as (

    select
        school_year,
        count(distinct person_key) as enrolled_students,
        count(distinct person_key) filter (where flagged_mckinney_vento) as mckinney_vento_students,
        count(distinct person_key) filter (where in_hmis) as hmis_students,
        count(distinct person_key) filter (where in_public_housing) as public_housing_students,
        count(distinct person_key) filter (where identified_any_source) as identified_students,
        count(distinct person_key) filter (where in_hmis and not flagged_mckinney_vento) as hmis_added_beyond_flag,
        count(distinct person_key) filter (where in_public_housing and not flagged_mckinney_vento)
            as public_housing_added_beyond_flag,
        count(distinct person_key) filter (where identified_any_source and not flagged_mckinney_vento)
            as added_beyond_flag,
        {{ rate('count(distinct person_key) filter (where identified_any_source)', 'count(distinct person_key)') }}
            as identified_rate
    from students
    group by school_year

)

select * from final
