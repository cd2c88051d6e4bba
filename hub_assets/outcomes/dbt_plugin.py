"""dbt-duckdb plugin: registers the hub's estimator as a SQL function on every dbt connection.

``hub_effect_estimate(list(struct_pack(participant, outcome, age, age_band, sex, race_ethnicity,
neighbourhood, prior_attendance, system_involved)))`` returns a list of structs, one per group
(dimension 'all' and each subgroup): the estimate, its 95% interval and the naive difference
(:mod:`hub_assets.outcomes.estimate`). A mart calls it over
the person-level analysis frame, so the estimation runs inside the warehouse, in the dbt build,
and governance judges the mart by the relations its SQL reads like any other (the function reads
only its arguments). Declared in ``dbt_project/profiles.yml``.
"""

from __future__ import annotations

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from hub_assets.outcomes.estimate import RESULT, estimate

FUNCTION = "hub_effect_estimate"
ROW = duckdb.struct_type(
    {
        "participant": "BOOLEAN",
        "outcome": "DOUBLE",
        "age": "INTEGER",
        "age_band": "VARCHAR",
        "sex": "VARCHAR",
        "race_ethnicity": "VARCHAR",
        "neighbourhood": "VARCHAR",
        "prior_attendance": "DOUBLE",
        "system_involved": "BOOLEAN",
    }
)
RETURNS = duckdb.list_type(
    duckdb.struct_type({"dimension": "VARCHAR", "group_value": "VARCHAR", **dict.fromkeys(RESULT, "DOUBLE")})
)


def register(con: duckdb.DuckDBPyConnection) -> None:
    con.create_function(
        FUNCTION, estimate, [duckdb.list_type(ROW)], RETURNS, type="native", null_handling="special", side_effects=False
    )


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register(conn)
