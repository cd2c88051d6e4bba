-- Births by the mother's age band at the birth (young parents: 24 or under; 25+ kept for
-- comparison) and birth year: the mother's enrolment and work in the year after the birth, and
-- the child's prenatal care, Head Start / pre-K enrolment and Medicaid-paid well-child, dental
-- and vision care. A mother with two births in a year
-- can fall in two age bands; the row mother_age_band = 'All' counts her once.

with

births as (

    select * from {{ ref('int_young_parents') }}

),

final as (

    select
        child_birth_year,
        {{ all_or('mother_age_band') }} as mother_age_band,
        -- null on the 'All' rows, which take in every band
        case when grouping(mother_age_band) = 0 then bool_and(is_young_parent) end as is_young_parent,
        count(distinct mother_person_key) as mothers,
        count(distinct child_person_key) as children,
        count(distinct mother_person_key) filter (where mother_enrolled_after_birth) as mothers_enrolled_after_birth,
        count(distinct mother_person_key) filter (where mother_working_after_birth) as mothers_working_after_birth,
        count(distinct child_person_key) filter (where prenatal_care_first_trimester) as children_first_trimester_care,
        count(distinct child_person_key) filter (where no_prenatal_care) as children_no_prenatal_care,
        count(distinct child_person_key) filter (where child_in_early_childhood) as children_in_early_childhood,
        count(distinct child_person_key) filter (where child_in_head_start) as children_in_head_start,
        count(distinct child_person_key) filter (where child_in_pre_k) as children_in_pre_k,
        count(distinct child_person_key) filter (where child_had_well_child_visit) as children_with_well_child_visit,
        count(distinct child_person_key) filter (where child_had_dental_visit) as children_with_dental_visit,
        count(distinct child_person_key) filter (where child_had_vision_care) as children_with_vision_care,
        {{ rate('count(distinct child_person_key) filter (where prenatal_care_first_trimester)', 'count(distinct child_person_key)') }}
            as first_trimester_care_rate,
        {{ rate('count(distinct child_person_key) filter (where child_in_early_childhood)', 'count(distinct child_person_key)') }}
            as early_childhood_rate,
        {{ rate('count(distinct child_person_key) filter (where child_had_well_child_visit)', 'count(distinct child_person_key)') }}
            as well_child_visit_rate
    from births
    {{ group_by_with_all(['child_birth_year'], ['mother_age_band']) }}

)

select * from final
