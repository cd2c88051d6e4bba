-- The analysis frame for programme outcomes: one row per programme, youth and outcome.
-- Cohort: the latest summer Y whose next school year (Y-(Y+1)) is on file. Population: students
-- enrolled in City Schools in grades KG-11 in school year (Y-1)-Y, with days enrolled on file,
-- of the programme's ages at 1 June Y (participants of any age are kept: they were eligible).
-- Programmes: YouthWorks summer jobs in summer Y; any summer programme in summer Y
-- (int_summer_participation); Family League out-of-school time starting June-December Y.
-- Outcomes (all in points, 0-100, except earnings in dollars):
--   attendance_rate: days attended / days enrolled in school year Y-(Y+1), for those enrolled;
--   chronic_absence: 100 when that rate is under 90%;
--   enrolled_next_year: 100 when enrolled in school year Y-(Y+1);
--   employed / earnings: any wages / total wages in quarters Y Q4 and Y+1 Q1, for youth aged 16
--     or more on 1 October Y, when wage records cover both quarters (not Family League: too young).
-- Covariates for the comparison: age, sex, race/ethnicity, neighbourhood (spine), prior-year
-- attendance rate, and system involvement (ever in foster care, juvenile or adult justice,
-- homelessness or public housing, from int_subpopulations).

with

enrolments as (

    select * from {{ ref('stg_city_schools__enrollments') }}

),

wages as (

    select * from {{ ref('stg_wage_records__wages') }}

),

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

subpopulations as (

    select * from {{ ref('int_subpopulations') }}

),

cohort as (

    select max(cast(left(school_year, 4) as integer)) as summer_year
    from enrolments
    where
        (cast(left(school_year, 4) as integer) - 1) || '-' || right(left(school_year, 4), 2)
        in (select distinct earlier.school_year from enrolments as earlier)

),

years as (

    select
        summer_year,
        (summer_year - 1) || '-' || right(cast(summer_year as varchar), 2) as base_year,
        summer_year || '-' || right(cast(summer_year + 1 as varchar), 2) as outcome_year,
        summer_year || 'Q4' as first_quarter,
        (summer_year + 1) || 'Q1' as last_quarter
    from cohort
    where summer_year is not null

),

programmes as (

    select * from (
        values
        ('youthworks', 14, 21, true),
        ('summer_programmes', 5, 21, true),
        ('family_league', 5, 14, false)
    ) as p (programme, min_age, max_age, has_work_outcomes)

),

participants as (

    select distinct
        'youthworks' as programme,
        placements.person_key
    from {{ ref('stg_youthworks__placements') }} as placements
    cross join years
    where placements.summer = years.summer_year
    union
    select distinct
        'summer_programmes',
        participation.person_key
    from {{ ref('int_summer_participation') }} as participation
    cross join years
    where participation.summer_year = years.summer_year
    union
    select distinct
        'family_league',
        attendance.person_key
    from {{ ref('stg_family_league__attendance') }} as attendance
    cross join years
    where attendance.session_start between make_date(years.summer_year, 6, 1) and make_date(years.summer_year, 12, 31)

),

base_students as (

    select
        enrolments.person_key,
        {{ rate('sum(enrolments.days_attended)', 'sum(enrolments.days_enrolled)') }} * 100 as prior_attendance
    from enrolments
    cross join years
    where
        enrolments.school_year = years.base_year
        and enrolments.person_key is not null
    group by enrolments.person_key
    having bool_and(enrolments.grade <> '12') and sum(enrolments.days_enrolled) > 0

),

next_year as (

    select
        enrolments.person_key,
        {{ rate('sum(enrolments.days_attended)', 'sum(enrolments.days_enrolled)') }} * 100 as attendance_rate
    from enrolments
    cross join years
    where enrolments.school_year = years.outcome_year
    group by enrolments.person_key

),

wages_after as (

    select
        wages.person_key,
        sum(wages.wages) as earnings
    from wages
    cross join years
    where wages.year_qtr in (years.first_quarter, years.last_quarter) and wages.wages > 0
    group by wages.person_key

),

wages_cover as (

    select bool_or(wages.year_qtr = years.last_quarter) as covered
    from wages
    cross join years

),

involved as (

    select distinct person_key
    from subpopulations
    where subpopulation in ('foster_care', 'justice_involved', 'homelessness', 'public_housing')

),

people as (

    select
        programmes.programme,
        programmes.has_work_outcomes,
        base_students.person_key,
        participants.person_key is not null as participant,
        {{ age_at('spine.birth_year', 'spine.birth_month', 'make_date(years.summer_year, 6, 1)') }} as age,
        {{ age_at('spine.birth_year', 'spine.birth_month', 'make_date(years.summer_year, 10, 1)') }} as age_in_october,
        spine.sex,
        spine.race_ethnicity,
        spine.neighbourhood,
        base_students.prior_attendance,
        involved.person_key is not null as system_involved,
        next_year.person_key is not null as enrolled,
        next_year.attendance_rate,
        coalesce(wages_after.earnings, 0) as earnings
    from base_students
    cross join programmes
    cross join years
    inner join spine on base_students.person_key = spine.person_key
    left join participants
        on programmes.programme = participants.programme and base_students.person_key = participants.person_key
    left join involved on base_students.person_key = involved.person_key
    left join next_year on base_students.person_key = next_year.person_key
    left join wages_after on base_students.person_key = wages_after.person_key
    where
        participants.person_key is not null
        or {{ age_at('spine.birth_year', 'spine.birth_month', 'make_date(years.summer_year, 6, 1)') }}
        between programmes.min_age and programmes.max_age

),

outcomes as (

    select
        *,
        'attendance_rate' as outcome,
        attendance_rate as outcome_value
    from people
    where enrolled
    union all
    select
        *,
        'chronic_absence',
        case when attendance_rate < 90 then 100.0 else 0.0 end
    from people
    where enrolled
    union all
    select
        *,
        'enrolled_next_year',
        case when enrolled then 100.0 else 0.0 end
    from people
    union all
    select
        *,
        'employed',
        case when earnings > 0 then 100.0 else 0.0 end
    from people
    where has_work_outcomes and age_in_october >= 16 and (select wages_cover.covered from wages_cover)
    union all
    select
        *,
        'earnings',
        earnings
    from people
    where has_work_outcomes and age_in_october >= 16 and (select wages_cover.covered from wages_cover)

),

final as (

    select
        outcomes.programme,
        outcomes.outcome,
        years.summer_year,
        outcomes.person_key,
        outcomes.participant,
        outcomes.outcome_value,
        outcomes.age,
        {{ age_band('outcomes.age') }} as age_band,
        outcomes.sex,
        outcomes.race_ethnicity,
        outcomes.neighbourhood,
        outcomes.prior_attendance,
        outcomes.system_involved
    from outcomes
    cross join years
    where outcomes.outcome_value is not null

)

select * from final
