"""Calibration: expected / maximum calibration error (equal-mass bins), reliability curve, and
temperature scaling: fitted on the validation split, applied by `calibrated` (the one
temperature-scaled sigmoid; training.model_folder hands it to everything that scores a model)."""

from __future__ import annotations

import numpy as np


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 15) -> list[dict]:
    """Equal-mass bins: mean confidence vs observed rate, with counts."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, max(len(p), 1))):
        if len(chunk):
            out.append({"mean_predicted": float(p[chunk].mean()), "observed_rate": float(y[chunk].mean()),
                        "count": int(len(chunk))})
    return out


def calibration_errors(y: np.ndarray, p: np.ndarray, bins: int = 15, draws: int = 200, seed: int = 0) -> dict:
    """ECE and MCE over equal-mass bins, and `noise`: the mean ECE a perfectly calibrated model shows
    with the same predictions on as many rows (labels drawn as Bernoulli(p), `draws` times). On a few
    hundred rows that floor is several points of ECE; on 30k rows well under one."""
    curve = reliability(y, p, bins)
    n = sum(b["count"] for b in curve)
    gaps = [abs(b["mean_predicted"] - b["observed_rate"]) for b in curve]
    return {"ece": float(sum(g * b["count"] for g, b in zip(gaps, curve)) / max(n, 1)),
            "mce": float(max(gaps, default=0.0)), "bins": len(curve), "noise": ece_noise(p, bins, draws, seed)}


def ece_noise(p: np.ndarray, bins: int = 15, draws: int = 200, seed: int = 0) -> float:
    """Mean ECE of labels drawn from the predictions themselves (the sampling floor of the ECE)."""
    p = np.asarray(p, dtype=np.float64)
    if len(p) == 0:
        return 0.0
    order = np.argsort(p, kind="stable")
    rng = np.random.default_rng(seed)
    total = np.zeros(draws)
    for chunk in np.array_split(order, min(bins, len(p))):
        if len(chunk):
            rates = (rng.random((draws, len(chunk))) < p[chunk]).mean(axis=1)
            total += np.abs(rates - p[chunk].mean()) * len(chunk)
    return float(total.mean() / len(p))


def fit_temperature(y: np.ndarray, logits: np.ndarray) -> float:
    """T > 0 minimising the log loss of sigmoid(logits / T) (T > 1 softens over-confidence)."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64)

    def nll(log_t: float) -> float:
        s = z / np.exp(log_t)
        return float(np.mean(np.logaddexp(0, s) - y * s))

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))


def calibrated(logits, temperature: float) -> np.ndarray:
    """Probabilities sigmoid(logits / temperature), as float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64) / temperature))
