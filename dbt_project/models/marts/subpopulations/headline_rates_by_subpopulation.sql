-- Each use case's headline rate for each subpopulation (int_subpopulations) against all youth
-- in the same population; opportunity_youth by earlier system involvement gives the pathways into
-- disconnection. The CTEs (import, grouping, final): macros/headline_rates_against_all_youth.sql.

{{ headline_rates_against_all_youth(ref('int_subpopulations')) }}
