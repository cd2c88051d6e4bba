"""The dbt CLI resource: the hub's project, with the profiles.yml that lives inside it.

Two things dagster-dbt does before every ``dbt build`` cost about 11 s per run on this machine
and buy the hub nothing, so :class:`HubDbtCliResource` skips them:

- it runs ``dbt --version`` in a subprocess (4.4 s of imports) to tell dbt Core from the Fusion
  engine. The hub pins dbt-core (pyproject.toml) and runs the ``dbt`` next to this interpreter
  (project.DBT_EXECUTABLE), so the installed package's version is the answer;
- it opens a dbt adapter in-process (6.3 s), used only to fetch row counts and column metadata,
  which the hub does not fetch (see assets.py: that fetch leaves a DuckDB connection open).

Measured with cProfile on a 100k-row city's dbt stage: dagster-dbt's ``cli()`` spent 10.8 s
before dbt started (4.4 s ``dbt --version``, 6.3 s adapter); the step now starts dbt at once.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging.version import Version

from hub_assets.dbt.project import DBT_EXECUTABLE, dbt_project


class HubDbtCliResource(DbtCliResource):
    """``DbtCliResource`` for the pinned, in-environment dbt Core the hub always runs."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - dagster-dbt's signature
        return None  # no row counts or column metadata are fetched, so no adapter is needed


def dbt_resource() -> DbtCliResource:
    return HubDbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir),
                             dbt_executable=DBT_EXECUTABLE)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": dbt_resource()})
