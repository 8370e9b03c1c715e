"""Drift detection (Evidently) and the retraining decision."""
