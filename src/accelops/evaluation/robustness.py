"""Robustness curves: the test metric under Gaussian noise on numeric features, random missing
values, category corruption, and an FGSM perturbation of the network's numeric inputs."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from accelops.evaluation.metrics import fast_auc


def _noise(df, numeric, categorical, s, rng):
    out = df.copy()
    for col in numeric:
        vals = out[col].to_numpy(np.float64)
        out[col] = vals + rng.normal(0, s * np.nanstd(vals), len(vals))
    return out


def _missing(df, numeric, categorical, rate, rng):
    out = df.copy()
    for col in numeric:
        out.loc[rng.random(len(out)) < rate, col] = np.nan
    return out


def _corrupt(df, numeric, categorical, rate, rng):
    out = df.copy()
    for col, values in categorical.items():
        mask = rng.random(len(out)) < rate
        out.loc[mask, col] = rng.choice(values, int(mask.sum()))
    return out


PERTURB = {"gaussian_noise": _noise, "missing": _missing, "category_corruption": _corrupt}


def robustness_curves(df: pd.DataFrame, y: np.ndarray, score: Callable[[pd.DataFrame], np.ndarray],
                      numeric: list[str], categorical: dict[str, list[str]], strengths: dict[str, list[float]],
                      fgsm: Callable[[pd.DataFrame, np.ndarray, float], np.ndarray] | None = None,
                      seed: int = 0) -> dict:
    """{"clean_auc", "curves": {perturbation: [{"strength", "roc_auc", "drop"}]}}."""
    y = np.asarray(y).astype(int)
    clean = fast_auc(y, score(df))
    curves: dict[str, list[dict]] = {}
    for name, levels in strengths.items():
        if name == "fgsm" and fgsm is None:
            continue
        points = []
        for level in levels:
            rng = np.random.default_rng(seed)
            p = fgsm(df, y, level) if name == "fgsm" else score(PERTURB[name](df, numeric, categorical, level, rng))
            auc = fast_auc(y, p)
            points.append({"strength": float(level), "roc_auc": auc, "drop": clean - auc})
        curves[name] = points
    return {"clean_auc": clean, "curves": curves}
