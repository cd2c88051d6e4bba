"""The dbt CLI resource: the hub's project, with the profiles.yml that lives inside it."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from hub_assets.defs.dbt.project import DBT_EXECUTABLE, dbt_project


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir),
                          dbt_executable=DBT_EXECUTABLE)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_resource()})
