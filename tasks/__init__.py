"""Prefect task adapters: a few lines each over accelops.pipeline (no logic here)."""
