"""Every dbt model (and its tests, as asset checks) as Dagster assets, built with ``dbt build``.

Governance comes first (``governance/governed_build``): the project is compiled, what its SQL and
hooks really read is judged against the agreements, and ``dbt build`` then leaves out every
refused use case and everything downstream of it. The step fails afterwards, naming each
refusal, so ``hub run`` exits non-zero while the use cases that pass are built.

dbt writes the warehouse, so the models run in the DuckDB writer pool. Row counts and column
metadata are not fetched: that fetch leaves a dbt-duckdb connection open, and a later DuckDB
writer in the same process then fails.
"""

import json
import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from hub_assets.dbt import parse_cache
from hub_assets.dbt.project import dbt_project, prepare_manifest
from hub_assets.defs.dbt.translator import HubDbtTranslator
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.governance import governed_build
from hub_assets.governance.agreements import load_governance
from hub_assets.sources.declaration import load_agencies
from hub_assets.sources.stores import ensure_raw_table

# dbt unit tests check the SQL's logic, not the data: they run in CI (tests/test_dbt_project.py)
# and when an analyst builds by hand, as dbt advises, not on every production build.
# The run's log file (in the run's target folder) keeps info-level lines, as Dagster's event log
# does: dbt's default debug-level file log writes every statement and its timing, and measured
# 1-3 s of a 15-18 s build on the 1M city. An analyst debugging SQL runs `dbt build` by hand.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "info"]
MANIFEST = prepare_manifest()
# Nodes these definitions were built from: a node added since (definitions not yet reloaded) is
# left out of the build and reported, not handed to dagster-dbt, which knows no asset for it.
KNOWN_NODES = frozenset(json.loads(MANIFEST.read_text()).get("nodes", {}))


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    dagster_dbt_translator=HubDbtTranslator(),
    pool=WRITER_POOL,
)
def hub_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, hub: HubResource):
    # profiles.yml reads the warehouse's folder from HUB_DATA_DIR; dbt runs in the project folder,
    # so hand it the hub's resolved (absolute) data directory.
    os.environ["HUB_DATA_DIR"] = str(hub.paths.root)
    # An agency declared but yet to send its first drop is a source with no rows, not a broken
    # build: give it its (empty) raw table, typed from the declaration.
    with hub.warehouse() as con:
        for source in load_agencies():
            ensure_raw_table(con, source)
    # Start from the parse of the previous build on this warehouse (see parse_cache).
    target_path = parse_cache.run_target_path(context.run.run_id)
    parse_cache.seed(target_path, hub.paths.warehouse_db)
    try:
        plan = governed_build.plan_build(Path(dbt.project_dir), target_path, load_governance(), KNOWN_NODES)
        governed_build.record(plan, hub.paths.root)
        if not plan.runs:
            raise dg.Failure(description="Governance refuses the build: " + "; ".join(plan.failures()))
        with hub.warehouse() as con:
            for relation in governed_build.drop_refused(con, plan):
                context.log.warning(f"dropped {relation}: its use case is refused")
        if plan.excluded_names:
            context.log.error(f"not built (refused, or downstream of a refusal): {', '.join(plan.excluded_names)}")
        yield from dbt.cli(plan.build_args(BUILD_ARGS), context=context, target_path=target_path).stream()
    finally:
        parse_cache.keep(target_path, hub.paths.warehouse_db)
        parse_cache.prune_run_folders()
    if plan.failures():
        raise dg.Failure(description="Governance refused: " + "; ".join(plan.failures()),
                         metadata={"not_built": ", ".join(plan.excluded_names)})
