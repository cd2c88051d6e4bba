"""The public release: one step that publishes every published mart and the findings page together.

Generated from the dbt manifest (``meta.publish``), never written per mart. One ``multi_asset``
produces ``public/<mart>`` for every published mart (each depending on its mart) and
``public/findings_report`` (depending on every ``public/<mart>``); it cannot be subset, so a
release is always whole. The step enforces governance for every use case, protects all tables
together against the release now public (``disclosure.protect``), audits the result (the attacker
audit over every table and the per-table rules, all blocking) and writes
tables, data dictionaries and the page into a staging folder built from that one in-memory
release. Only when every check passes is the staging folder switched in as the current release
(``disclosure.release``); otherwise nothing public changes and the step fails, naming what failed.
The blocking check ``complete_release`` carries the verdict and the audit's figures.
"""

import datetime as dt
from collections.abc import Callable

import dagster as dg
import polars as pl

from hub_assets.dbt.manifest import PublishedMart, load_manifest
from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.resources import WRITER_POOL, HubResource
from hub_assets.disclosure.protect import protect_with_audit
from hub_assets.disclosure.release import (
    current_publication,
    discard,
    load_previous_release,
    meaning_changes,
    plain_words,
    stage_tables,
    switch_to,
    write_public_table,
)
from hub_assets.disclosure.rules import Release, release_problems
from hub_assets.disclosure.suppression import disclosure_settings
from hub_assets.findings import write_findings_page
from hub_assets.governance import audit
from hub_assets.governance.agreements import load_governance, refusals, table_thresholds

FINDINGS_KEY = dg.AssetKey(["public", "findings_report"])
RELEASE_CHECK = "complete_release"


def public_key(mart: PublishedMart) -> dg.AssetKey:
    return dg.AssetKey(["public", mart.name])


def build_public_release(marts: list[PublishedMart], mart_key: Callable[[PublishedMart], dg.AssetKey]
                         ) -> dg.AssetsDefinition:
    specs = [dg.AssetSpec(public_key(m), deps=[mart_key(m)], group_name="public", kinds={"duckdb", "csv", "parquet"},
                          automation_condition=AFTER_UPSTREAM, tags={"use_case": m.use_case},
                          description=f"Suppressed public table of {m.name} ({m.use_case}), released with all others.")
             for m in marts]
    specs.append(dg.AssetSpec(
        FINDINGS_KEY, deps=[public_key(m) for m in marts], group_name="public", kinds={"html"},
        automation_condition=AFTER_UPSTREAM,
        description="Findings page (static HTML, charts inline), built in the same step from the same release as "
                    "the public tables: Summer Engagement in depth, headline figures for every use case."))
    check = dg.AssetCheckSpec(
        RELEASE_CHECK, asset=FINDINGS_KEY, blocking=True,
        description="Every use case's agreement is in force and the whole release passed the disclosure audit "
                    "before it was switched in.")

    @dg.multi_asset(name="public_release", specs=specs, check_specs=[check], can_subset=False, pool=WRITER_POOL)
    def public_release(context: dg.AssetExecutionContext, hub: HubResource):
        release_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + context.run_id[:8]
        manifest, governance = load_manifest(), load_governance()
        use_cases = sorted({m.use_case for m in marts})
        # Each table's threshold: a source held to a stricter one (governance.yaml source_rules)
        # raises it for the tables whose lineage reaches that source, and only for them.
        thresholds = table_thresholds(marts, governance, manifest)
        refused = [p for use_case in use_cases for p in refusals(governance, manifest, use_case)]
        if refused:
            yield _verdict(False, refused, release_id=release_id)
            raise dg.Failure(description="Governance refuses this release: " + "; ".join(refused))
        with hub.warehouse(read_only=True) as con:
            cells = [(m, pl.from_arrow(con.sql(f'select * from "{m.schema}"."{m.relation}"').to_arrow_table()))
                     for m in marts]
        unpublished = {m.name: [c for c in frame.columns if c not in m.spec.columns] for m, frame in cells}
        for name, columns in unpublished.items():
            if columns:  # said out loud: only what meta.publish declares goes public
                context.log.info(f"{name}: columns not in meta.publish stay in the warehouse: {columns}")
        base = disclosure_settings().rounding_base
        try:  # every table of the release together, against the release now public
            tables, result = protect_with_audit(cells, thresholds, load_previous_release(hub.paths.public),
                                                current_publication(hub.paths.public, thresholds))
        except ValueError as error:
            yield _verdict(False, [str(error)], release_id=release_id)
            raise dg.Failure(description=f"The release cannot be protected: {error}") from error
        by_name = {m.name: m for m in marts}
        problems = release_problems(Release({n: (by_name[n], t) for n, t in tables.items()}, thresholds, base,
                                            audit_of=lambda: result))  # the audit the protection passed
        if problems:
            yield _verdict(False, problems, release_id=release_id, **result.metadata())
            raise dg.Failure(description="The release is not safe to publish: " + "; ".join(problems[:10]))

        agreements = {u: governance.agreement_for(u).id for u in use_cases}
        changes = meaning_changes(base)
        staged = stage_tables(hub.paths.public, release_id, [(m, tables[m.name]) for m in marts], thresholds,
                              changes, agreements, base)
        try:  # the page from the same in-memory release, into the same staging folder
            page = write_findings_page(staged.folder, notes=plain_words(thresholds, changes), release_id=release_id)
            with hub.warehouse() as con:  # audited before it is switched in: no release goes out unrecorded
                con.execute("begin")
                for name, table in tables.items():
                    write_public_table(con, name, table)
                con.execute("commit")
                audit.record(con, hub.paths.root, action="public_release",
                             what=f"release {release_id}: " + ", ".join(f"public.{n}" for n in sorted(tables)),
                             approval=", ".join(sorted(set(agreements.values()))), digest=staged.digest)
            folder = switch_to(hub.paths.public, staged.folder, release_id)
        except BaseException:
            discard(staged.folder)  # never switched in: nothing public changed
            raise
        context.log.info(f"release {release_id}: {len(tables)} tables and the findings page switched in at {folder}")
        written, staging, digest = staged.tables, staged.folder, staged.digest

        yield _verdict(True, [], release_id=release_id, **result.metadata())
        for mart in marts:
            release = written[mart.name]
            yield dg.MaterializeResult(asset_key=public_key(mart), metadata={
                "release_id": release_id, "rows": release.rows, "suppressed_cells": release.suppressed_cells,
                "min_cell_size": thresholds[mart.name], "rounding_base": base, "sha256": release.digest,
                "agreement": agreements[mart.use_case],
                "unpublished_columns": ", ".join(unpublished[mart.name]),
                "files": [str(folder / p.relative_to(staging)) for p in release.files],
                "data_dictionary": str(folder / mart.use_case / "data_dictionary.md")})
        final_page = folder / page.relative_to(staging)
        yield dg.MaterializeResult(asset_key=FINDINGS_KEY, metadata={
            "release_id": release_id, "release_digest": digest, "release_folder": dg.MetadataValue.path(str(folder)),
            "page": dg.MetadataValue.url(final_page.as_uri()), "path": dg.MetadataValue.path(str(final_page)),
            "use_cases": dg.MetadataValue.json(sorted(agreements)), "tables": len(written),
            "suppressed_cells_shown": sum(r.suppressed_cells for r in written.values()),
            "agreements": dg.MetadataValue.json(agreements), "bytes": final_page.stat().st_size,
            **result.metadata()})

    return public_release


def _verdict(passed: bool, problems: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=RELEASE_CHECK, asset_key=FINDINGS_KEY, passed=passed,
                               severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"problems": len(problems), "first_problems": "\n".join(problems[:20]),
                                         **metadata})
