"""What keeps the hub safe to run unattended: dead-run recovery, the data directory's lock,
store health and disk-full reporting. Plain helpers; the Dagster side lives in defs/ops/."""
