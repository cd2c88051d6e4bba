-- Crossover youth (touched both foster care and juvenile services) by which system came first
-- and the time between first contacts.

with

crossover as (

    select * from {{ ref('int_crossover_youth') }}
    where is_crossover

),

final as (

    select
        sequence,
        time_between_band,
        count(distinct person_key) as crossover_youth,
        count(distinct person_key) filter (where is_dually_involved) as dually_involved_youth
    from crossover
    group by sequence, time_between_band

)

select * from final
