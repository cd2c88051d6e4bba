-- One row per person with household benefits (TANF/SNAP) or an adult booking: when each began.
-- The opportunity-youth pathways ask what came before a young person was neither enrolled nor
-- working; this model reaches only social_services and adult_justice.

with

benefits as (

    {{ agency_episodes('social_services') }}

),

bookings as (

    {{ agency_episodes('adult_justice') }}

),

benefit_firsts as (

    select
        person_key,
        min(start_date) as first_benefit_date,
        min(start_date) filter (where program = 'TANF') as first_tanf_date,
        min(start_date) filter (where program = 'SNAP') as first_snap_date,
        count(*) as benefit_spells
    from benefits
    group by person_key

),

booking_firsts as (

    select
        person_key,
        min(start_date) as first_adult_booking_date,
        count(*) as adult_bookings
    from bookings
    group by person_key

),

final as (

    select
        person_key,
        benefit_firsts.first_benefit_date,
        benefit_firsts.first_tanf_date,
        benefit_firsts.first_snap_date,
        coalesce(benefit_firsts.benefit_spells, 0) as benefit_spells,
        booking_firsts.first_adult_booking_date,
        coalesce(booking_firsts.adult_bookings, 0) as adult_bookings
    from benefit_firsts
    full outer join booking_firsts using (person_key)

)

select * from final
