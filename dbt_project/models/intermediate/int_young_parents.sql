-- One row per birth in vital records, with the mother's age at the birth and what followed:
-- the mother's own education (City Schools enrolment) and employment (wages) in the year after
-- the birth, and the child's prenatal care, early-childhood (Head Start / pre-K) enrolment and
-- preventive care paid by Medicaid (well-child, dental and vision visits).
-- Young parents are mothers aged 24 or under at the birth; older mothers are kept as the
-- comparison group. The birth date is the first of the child's birth month (the warehouse holds
-- no birth days).

with

births as (

    select * from {{ ref('stg_vital_records__births') }}

),

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

dated as (

    select
        births.person_key as child_person_key,
        births.mother_person_key,
        births.prenatal_care_began_month,
        births.prenatal_visits,
        child.birth_year as child_birth_year,
        make_date(child.birth_year, coalesce(child.birth_month, 7), 1) as birth_date,
        {{ age_at('mother.birth_year', 'mother.birth_month', 'make_date(child.birth_year, coalesce(child.birth_month, 7), 1)') }} as mother_age_at_birth,
        mother.race_ethnicity as mother_race_ethnicity,
        mother.neighbourhood as mother_neighbourhood
    from births
    inner join spine as child on child.person_key = births.person_key
    inner join spine as mother on mother.person_key = births.mother_person_key

),

episodes as (

    select person_key, 'city_schools' as agency, grade as program, entry_date as start_date, exit_date as end_date
    from {{ ref('stg_city_schools__enrollments') }}
    union all
    select person_key, 'wage_records', 'wages', {{ quarter_start('year_qtr') }}, {{ quarter_end('year_qtr') }}
    from {{ ref('stg_wage_records__wages') }}
    where wages > 0
    union all
    select person_key, 'early_childhood', program_type, enroll_date, exit_date
    from {{ ref('stg_early_childhood__enrollments') }}

),

mother_after_birth as (

    select
        dated.child_person_key,
        bool_or(episodes.agency = 'city_schools') as mother_enrolled_after_birth,
        bool_or(episodes.agency = 'wage_records') as mother_working_after_birth
    from dated
    inner join episodes
        on episodes.person_key = dated.mother_person_key
        and episodes.start_date <= cast(dated.birth_date + interval 12 month as date)
        and coalesce(episodes.end_date, dated.birth_date) >= dated.birth_date
    group by dated.child_person_key

),

child_early_childhood as (

    select
        person_key as child_person_key,
        bool_or(program = 'HEAD_START' or program = 'EARLY_HEAD_START') as child_in_head_start,
        bool_or(program = 'PRE_K') as child_in_pre_k
    from episodes
    where agency = 'early_childhood'
    group by person_key

),

child_preventive_care as (

    select
        person_key as child_person_key,
        bool_or(program = 'WELL_CHILD') as child_had_well_child_visit,
        bool_or(program = 'DENTAL') as child_had_dental_visit,
        bool_or(program = 'VISION') as child_had_vision_care
    from ({{ agency_episodes('health') }}) as claims
    group by person_key

),

final as (

    select
        dated.child_person_key,
        dated.mother_person_key,
        dated.child_birth_year,
        dated.mother_age_at_birth,
        {{ age_band('dated.mother_age_at_birth') }} as mother_age_band,
        dated.mother_age_at_birth <= 24 as is_young_parent,
        dated.mother_race_ethnicity,
        dated.mother_neighbourhood,
        dated.prenatal_care_began_month between 1 and 3 as prenatal_care_first_trimester,
        dated.prenatal_care_began_month = 0 as no_prenatal_care,
        coalesce(mother_after_birth.mother_enrolled_after_birth, false) as mother_enrolled_after_birth,
        coalesce(mother_after_birth.mother_working_after_birth, false) as mother_working_after_birth,
        coalesce(child_early_childhood.child_in_head_start, false) as child_in_head_start,
        coalesce(child_early_childhood.child_in_pre_k, false) as child_in_pre_k,
        coalesce(child_early_childhood.child_in_head_start or child_early_childhood.child_in_pre_k, false)
            as child_in_early_childhood,
        coalesce(child_preventive_care.child_had_well_child_visit, false) as child_had_well_child_visit,
        coalesce(child_preventive_care.child_had_dental_visit, false) as child_had_dental_visit,
        coalesce(child_preventive_care.child_had_vision_care, false) as child_had_vision_care
    from dated
    left join mother_after_birth using (child_person_key)
    left join child_early_childhood using (child_person_key)
    left join child_preventive_care using (child_person_key)

)

select * from final
