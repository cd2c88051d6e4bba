-- The effect of each programme on each outcome for its participants, against similar students
-- who did not take part: overall (dimension 'all') and by sex, race/ethnicity, age band and
-- system involvement (long format). The estimates, their 95% intervals and the naive
-- differences come from hub_effect_estimate (inverse-propensity weighting with regression
-- adjustment, statsmodels; hub_assets/outcomes/estimate.py), called once per programme and
-- outcome on that frame's rows and reading nothing else. Estimates are null for groups with
-- fewer than 20 participants or non-participants.

with

frame as (

    select * from {{ ref('int_programme_outcome_frame') }}

),

long as (

    select
        *,
        'all' as dimension,
        'all' as group_value
    from frame
    union all
    select
        *,
        'sex',
        sex
    from frame
    union all
    select
        *,
        'race_ethnicity',
        race_ethnicity
    from frame
    union all
    select
        *,
        'age_band',
        age_band
    from frame
    union all
    select
        *,
        'system_involvement',
        case when system_involved then 'involved' else 'not_involved' end
    from frame

),

counted as (

    select
        programme,
        outcome,
        summer_year,
        dimension,
        group_value,
        count(distinct person_key) as youth_compared,
        count(distinct person_key) filter (where participant) as participants
    from long
    group by programme, outcome, summer_year, dimension, group_value

),

estimated as (

    select
        programme,
        outcome,
        summer_year,
        unnest(hub_effect_estimate(list(struct_pack(
            participant := cast(participant as boolean),
            outcome := cast(outcome_value as double),
            age := cast(age as integer),
            age_band := age_band,
            sex := sex,
            race_ethnicity := race_ethnicity,
            neighbourhood := neighbourhood,
            prior_attendance := cast(prior_attendance as double),
            system_involved := cast(system_involved as boolean)
        ) order by person_key))) as result
    from frame
    group by programme, outcome, summer_year

),

final as (

    select
        counted.programme,
        counted.outcome,
        cast(counted.summer_year as integer) as summer_year,
        counted.dimension,
        counted.group_value,
        counted.youth_compared,
        counted.participants,
        estimated.result.estimate as effect,
        estimated.result.lower as effect_lower,
        estimated.result.upper as effect_upper,
        estimated.result.naive_difference,
        estimated.result.naive_lower,
        estimated.result.naive_upper,
        estimated.result.participant_mean,
        estimated.result.comparison_mean
    from counted
    left join estimated
        on
            counted.programme = estimated.programme
            and counted.outcome = estimated.outcome
            and counted.summer_year = estimated.summer_year
            and counted.dimension = estimated.result.dimension
            and counted.group_value = estimated.result.group_value

)

select * from final
