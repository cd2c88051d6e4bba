"""When linkage runs on its own: a nightly full re-link (which also republishes the spine) and
a weekly retrain of the model. Between them, new drops attach incrementally (eager automation
on ``linkage/person_keys``)."""


import dagster as dg

from hub_assets.defs.linkage.assets import MODEL_KEY, PERSON_KEYS_KEY

full_relink_job = dg.define_asset_job(
    "full_relink_job",
    selection=dg.AssetSelection.assets(PERSON_KEYS_KEY) | dg.AssetSelection.groups("spine"),
    config={"ops": {"linkage__person_keys": {"config": {"mode": "full"}}}},
    description="Re-link every current record, carrying person keys forward; republish the spine.")

retrain_linkage_model_job = dg.define_asset_job(
    "retrain_linkage_model_job", selection=dg.AssetSelection.assets(MODEL_KEY),
    description="Retrain the Splink model on the current records (explicit, not per drop).")

nightly_full_relink = dg.ScheduleDefinition(
    name="nightly_full_relink", job=full_relink_job, cron_schedule="30 2 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING)

weekly_linkage_retrain = dg.ScheduleDefinition(
    name="weekly_linkage_retrain", job=retrain_linkage_model_job, cron_schedule="0 1 * * 0",
    default_status=dg.DefaultScheduleStatus.RUNNING)
