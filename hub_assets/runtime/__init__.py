"""What keeps the hub safe to run unattended: dead-run recovery, the data directory's lock,
store health and disk-full reporting, the Dagster instance's home and storage, and registering
drops without the sensors. Plain helpers; the Dagster side lives in defs/ops/."""
