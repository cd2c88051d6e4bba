"""The weekly public release: every ``public/*`` asset, the findings page last, on a fixed day.

Between releases the public zone already follows each new drop through ``AFTER_UPSTREAM``; the
weekly run is the dated release the city announces, and it republishes even when no drop came
(so a changed suppression threshold or governance file reaches the public zone within a week).
Each public asset audits its own release, so the schedule needs no bookkeeping of its own.
"""

import dagster as dg

PUBLIC_ASSETS = dg.AssetSelection.groups("public")

public_release_job = dg.define_asset_job(
    "public_release_job",
    selection=PUBLIC_ASSETS,
    description="Re-release every public table through disclosure control, then the findings page.",
)

public_release_schedule = dg.ScheduleDefinition(
    name="public_release_schedule",
    job=public_release_job,
    cron_schedule="0 6 * * 1",  # Monday 06:00, city time: before the working week starts
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly public release: every public table and the findings page.",
)
