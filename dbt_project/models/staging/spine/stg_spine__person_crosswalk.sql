with

source as (

    select * from {{ source('spine', 'person_crosswalk') }}

),

final as (

    select
        cast(record_token as varchar) as record_token,
        cast(person_key as varchar) as person_key,
        cast(source as varchar) as source
    from source

)

select * from final
