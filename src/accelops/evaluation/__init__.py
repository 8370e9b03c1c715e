"""Metrics, slices (deepened by the evaluation issue: calibration, fairness, robustness)."""
