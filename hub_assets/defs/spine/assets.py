"""Assets of the ``spine`` group: the de-identified person spine, crosswalk and key history
in the warehouse (schema ``spine``), rebuilt from the identity zone after every linkage."""


import dagster as dg

from hub_assets.defs.automation.conditions import AFTER_UPSTREAM
from hub_assets.defs.linkage.assets import PERSON_KEYS_KEY
from hub_assets.defs.resources import WRITER_POOL, HubResource, attach_read_only
from hub_assets.spine.publish import publish_spine
from hub_assets.spine.rules import IDENTIFIER_COLUMNS

SPINE_TABLES = ("person_crosswalk", "person_spine", "person_key_history")
KEYS = {name: dg.AssetKey(["spine", name]) for name in SPINE_TABLES}


@dg.multi_asset(
    specs=[dg.AssetSpec(KEYS["person_crosswalk"], group_name="spine", deps=[PERSON_KEYS_KEY],
                        description="record_token -> person_key, source (one row per current record)",
                        automation_condition=AFTER_UPSTREAM),
           dg.AssetSpec(KEYS["person_spine"], group_name="spine", deps=[PERSON_KEYS_KEY],
                        description="One row per person: birth year/month, sex, race/ethnicity, "
                                    "neighbourhood, first/last seen, systems, records",
                        automation_condition=AFTER_UPSTREAM),
           dg.AssetSpec(KEYS["person_key_history"], group_name="spine", deps=[PERSON_KEYS_KEY],
                        description="Merges and splits of person keys (keys only)",
                        automation_condition=AFTER_UPSTREAM)],
    pool=WRITER_POOL, can_subset=False, name="spine_tables")
def spine_tables(hub: HubResource):
    with hub.identity() as identity, hub.warehouse() as warehouse:
        counts = publish_spine(identity, warehouse)
    recomputed = counts.pop("people_recomputed")
    for name, rows in counts.items():
        extra = {"people_recomputed": recomputed} if name == "person_spine" else {}
        yield dg.MaterializeResult(asset_key=KEYS[name], metadata={"rows": rows} | extra)


def _columns(hub: HubResource, table: str) -> set[str]:
    with hub.warehouse(read_only=True) as con:
        rows = con.sql("select column_name from information_schema.columns "
                       "where table_schema = 'spine' and table_name = ?", params=[table]).fetchall()
    return {r[0] for r in rows}


@dg.multi_asset_check(specs=[dg.AssetCheckSpec("no_identifier_columns", asset=KEYS[name])
                             for name in SPINE_TABLES])
def spine_has_no_identifier_columns(hub: HubResource):
    for name in SPINE_TABLES:
        found = _columns(hub, name) & IDENTIFIER_COLUMNS
        yield dg.AssetCheckResult(asset_key=KEYS[name], check_name="no_identifier_columns",
                                  passed=not found, metadata={"identifier_columns": sorted(found)})


@dg.asset_check(asset=KEYS["person_spine"], description="person_key is unique in the spine.")
def person_keys_are_unique(hub: HubResource) -> dg.AssetCheckResult:
    with hub.warehouse(read_only=True) as con:
        dupes = con.sql("select count(*) - count(distinct person_key) from spine.person_spine"
                        ).fetchall()[0][0]
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicated_keys": dupes})


@dg.asset_check(asset=KEYS["person_crosswalk"],
                description="Every record token in identity.current_records is mapped exactly once.")
def every_record_mapped_once(hub: HubResource) -> dg.AssetCheckResult:
    # One query with the warehouse attached read-only: tokens only, never copied out of DuckDB.
    with hub.identity(read_only=True) as identity:
        attach_read_only(identity, hub.paths.warehouse_db, "wh")
        unmapped, repeated, extra = identity.execute("""
            with walk_rows as (
                select t.record_token, count(w.person_key) as n
                from current_records t
                left join wh.spine.person_crosswalk w using (record_token)
                group by t.record_token
            )
            select count(*) filter (where n = 0), count(*) filter (where n > 1),
                   (select count(*) from wh.spine.person_crosswalk w
                    anti join current_records t using (record_token))
            from walk_rows
        """).fetchall()[0]
    return dg.AssetCheckResult(passed=unmapped == 0 and repeated == 0 and extra == 0,
                               metadata={"unmapped": unmapped, "mapped_more_than_once": repeated,
                                         "not_current": extra})
