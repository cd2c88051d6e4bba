with

source as (

    select * from {{ source('spine', 'person_spine') }}

),

final as (

    select
        cast(person_key as varchar) as person_key,
        cast(birth_year as integer) as birth_year,
        cast(birth_month as integer) as birth_month,
        -- Marts group by these; an explicit 'unknown' keeps every person in some group.
        coalesce(cast(sex as varchar), 'unknown') as sex,
        coalesce(cast(race_ethnicity as varchar), 'UNKNOWN') as race_ethnicity,
        coalesce(cast(neighbourhood as varchar), 'unknown') as neighbourhood,
        cast(first_seen as date) as first_seen,
        cast(last_seen as date) as last_seen,
        systems,
        cast(n_records as bigint) as n_records
    from source

)

select * from final
