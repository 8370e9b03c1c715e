"""Feature statistics per feature view (min, max, mean, std, null rate; categories: distinct count
and the largest shares), recorded with the run (reports/feature_stats.json, logged to MLflow)."""

from __future__ import annotations

import pandas as pd

from accelops.features.schema import FeatureStats, ViewStats


def view_statistics(table: pd.DataFrame, views: dict[str, list[str]]) -> dict[str, ViewStats]:
    """The statistics of the feature table's columns, per view."""
    out = {}
    for view, features in views.items():
        stats = {}
        for col in features:
            s = table[col]
            if pd.api.types.is_numeric_dtype(s):
                stats[col] = FeatureStats(type="numeric", min=_f(s.min()), max=_f(s.max()), mean=_f(s.mean()),
                                          std=_f(s.std()), null_rate=float(s.isna().mean()))
            else:
                shares = s.value_counts(normalize=True).head(10)
                stats[col] = FeatureStats(type="categorical", distinct=int(s.nunique()),
                                          null_rate=float(s.isna().mean()),
                                          top_shares={str(k): float(v) for k, v in shares.items()})
        out[view] = ViewStats(rows=int(len(table)), features=stats)
    return out


def _f(v) -> float | None:
    return None if pd.isna(v) else float(v)
