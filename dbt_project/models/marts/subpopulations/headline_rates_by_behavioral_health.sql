-- Each use case's headline rate for youth served by public behavioural health
-- (int_subpopulations_behavioral_health: mental health or substance-use treatment) against all
-- youth in the same population. A table of its own so that only it reaches behavioural-health
-- records: it alone is held to their stricter disclosure threshold (governance.yaml
-- source_rules). The CTEs (import, grouping, final): macros/headline_rates_against_all_youth.sql.

{{ headline_rates_against_all_youth(ref('int_subpopulations_behavioral_health')) }}
