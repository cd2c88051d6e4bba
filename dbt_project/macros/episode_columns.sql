{#- The columns of a service episode, from a CTE of per-agency rows (person_key, record_token,
    source_ref, agency, service_type, program, provider, start_date, end_date, neighbourhood,
    is_summer_program, summer_year). int_summer_episodes and int_service_episodes share this
    shape so that the second can union the first. -#}
{% macro episode_columns() %}
        md5(concat_ws('|', agency, record_token, source_ref)) as episode_id,
        person_key,
        agency,
        service_type,
        program,
        provider,
        start_date,
        end_date,
        neighbourhood as site_neighbourhood,
        is_summer_program,
        cast(case when is_summer_program then summer_year end as integer) as summer_year,
        end_date is null as is_open_ended
{%- endmacro %}
