"""Hands-off operation: the shipped Dagster instance configuration and the run-failure alert."""
