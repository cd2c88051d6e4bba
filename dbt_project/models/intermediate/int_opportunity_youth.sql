-- One row per youth aged 16-24 at the start of the measurement period: enrolled in City Schools
-- in the school year the period ends in? working (any wages) during the period? Opportunity
-- youth are neither.
-- Period: the latest four wage quarters on file (or the four ending at the var
-- opportunity_period_end_quarter, e.g. '2026Q2'), so wages are never judged on quarters not yet
-- reported. Enrolment is judged on the current school year only: a student who left school last
-- spring and has done nothing since is disconnected now. Limits: the spine is not a census
-- (youth no agency served are missing), and enrolment covers City Schools only (no college or
-- GED data yet).

with

spine as (

    select * from {{ ref('stg_spine__person_spine') }}

),

period as (

    select
        {{ quarter_start('end_quarter') }} - interval 9 month as period_start,
        {{ quarter_end('end_quarter') }} as period_end,
        end_quarter
    from (
        select
            coalesce(
                {% if var('opportunity_period_end_quarter', none) %}
                    '{{ var('opportunity_period_end_quarter') }}'
                {% else %}
                    null
                {% endif %},
                max(year_qtr)
            ) as end_quarter
        from {{ ref('stg_wage_records__wages') }}
    )
    where end_quarter is not null

),

enrolled as (

    select distinct enrolments.person_key
    from {{ ref('stg_city_schools__enrollments') }} as enrolments
    cross join period
    where
        {{ school_year_start('enrolments.school_year') }} <= period.period_end
        and {{ school_year_end('enrolments.school_year') }} >= period.period_end

),

working as (

    select distinct wages.person_key
    from {{ ref('stg_wage_records__wages') }} as wages
    cross join period
    where
        wages.wages > 0
        and {{ quarter_start('wages.year_qtr') }} between period.period_start and period.period_end

),

youth as (

    select
        spine.*,
        period.period_start,
        period.period_end,
        period.end_quarter,
        {{ age_at('spine.birth_year', 'spine.birth_month', 'period.period_start') }} as age
    from spine
    cross join period

),

final as (

    select
        youth.person_key,
        cast(youth.period_start as date) as period_start,
        cast(youth.period_end as date) as period_end,
        youth.end_quarter as period_end_quarter,
        youth.age,
        {{ age_band('youth.age') }} as age_band,
        youth.sex,
        youth.race_ethnicity,
        youth.neighbourhood,
        enrolled.person_key is not null as is_enrolled,
        working.person_key is not null as is_working,
        enrolled.person_key is null and working.person_key is null as is_opportunity_youth
    from youth
    left join enrolled using (person_key)
    left join working using (person_key)
    where youth.age between 16 and 24

)

select * from final
