"""Typed results of the feature stages: the training set with per-view statistics
(reports/feature_stats.json) and the online-store load (reports/materialize.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeatureStats(_Record):
    """min/max/mean/std for numeric features; distinct count and the largest shares for categories."""
    type: Literal["numeric", "categorical"]
    null_rate: float
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    distinct: int | None = None
    top_shares: dict[str, float] | None = None


class ViewStats(_Record):
    rows: int
    features: dict[str, FeatureStats]
    training_rows_missing: int = 0     # entity rows of the training set with no feature row in this view


class FeaturesSummary(_Record):
    """reports/feature_stats.json: what the features stage built, and the statistics per feature view."""
    features_table: str
    training_set: str
    rows: int
    feature_service: str
    views: dict[str, ViewStats]


class ViewLoad(_Record):
    start: str
    end: str
    entities: int
    skipped: bool                      # nothing new since the previous load


class MaterializeSummary(_Record):
    """reports/materialize.json: the online-store load per view (incremental windows)."""
    start: str
    end: str
    entities: int
    skipped: bool
    store: str
    writer: str
    views: dict[str, ViewLoad]
