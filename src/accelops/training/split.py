"""Time-based train / valid / test split: the test split is always the most recent data."""

from __future__ import annotations

import numpy as np
import pandas as pd


def time_split(df: pd.DataFrame, timestamp: str, fractions: tuple[float, float, float]) -> pd.Series:
    """A Series of 'train' / 'valid' / 'test' by event-time quantiles (ties stay together)."""
    ts = df[timestamp]
    q1, q2 = ts.quantile(fractions[0]), ts.quantile(fractions[0] + fractions[1])
    split = np.where(ts <= q1, "train", np.where(ts <= q2, "valid", "test"))
    return pd.Series(split, index=df.index, name="split")
