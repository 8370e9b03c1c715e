"""Behavioural tests (Made-With-ML style): invariance to non-causal columns and declared
directional expectations, e.g. more support tickets never lowers churn risk on average."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd


def invariance(df: pd.DataFrame, score: Callable[[pd.DataFrame], np.ndarray], columns: list[str],
               tolerance: float, seed: int = 0) -> list[dict]:
    """Shuffle each non-causal column across rows; predictions must not move beyond tolerance."""
    base = score(df)
    rng = np.random.default_rng(seed)
    out = []
    for col in columns:
        if col not in df.columns:
            continue
        changed = df.copy()
        changed[col] = rng.permutation(changed[col].to_numpy())
        delta = float(np.max(np.abs(score(changed) - base))) if len(df) else 0.0
        out.append({"column": col, "max_abs_change": delta, "tolerance": tolerance, "passed": delta <= tolerance})
    return out


def directional(df: pd.DataFrame, score: Callable[[pd.DataFrame], np.ndarray], expectations: list[dict],
                bounds: dict[str, tuple[float | None, float | None]]) -> list[dict]:
    """For each {feature, delta, direction}: shift the feature (clipped to its contract range) and
    require the mean prediction to move the declared way (or stay)."""
    base = score(df)
    out = []
    for exp in expectations:
        col, delta, direction = exp["feature"], float(exp["delta"]), exp["direction"]
        lo, hi = bounds.get(col, (None, None))
        shifted = df.copy()
        shifted[col] = np.clip(shifted[col].to_numpy(np.float64) + delta, lo, hi)
        change = score(shifted) - base
        mean = float(np.mean(change))
        sign = 1 if direction == "up" else -1
        out.append({"feature": col, "delta": delta, "direction": direction, "mean_change": mean,
                    "share_rows_against": float(np.mean(sign * change < -1e-9)),
                    "passed": sign * mean >= -1e-9})
    return out
