"""Overall metrics, decision threshold, confusion matrix, bootstrap confidence intervals, and
MLflow-safe metric names."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import numpy as np

MAIN_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")


def metric_key(*parts: str) -> str:
    """An MLflow-safe metric name such as slice.region.north.roc_auc."""
    return ".".join(re.sub(r"[^A-Za-z0-9_\-/ ]", "_", str(p)) for p in parts)


def _clip(p) -> np.ndarray:
    return np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)


def fast_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC by ranks (ties averaged), NaN when one class is absent; same value as sklearn."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def overall_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss

    y = np.asarray(y).astype(int)
    raw, p = np.asarray(p, dtype=np.float64), _clip(p)    # ranks from the raw scores: clipping ties them
    two = len(np.unique(y)) == 2
    return {
        "roc_auc": fast_auc(y, raw),
        "pr_auc": float(average_precision_score(y, raw)) if two else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "positive_rate": float(y.mean()),
        "rows": int(len(y)),
    }


def choose_threshold(y: np.ndarray, p: np.ndarray, cost_fp: float | None = None,
                     cost_fn: float | None = None) -> dict:
    """Threshold on the validation split: max F1, or min expected cost when costs are given."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(1 - ys)
    last = np.r_[ps[1:] != ps[:-1], True]          # one candidate per distinct score
    tp, fp, cand = tp[last], fp[last], ps[last]
    fn = ys.sum() - tp
    if cost_fp is not None and cost_fn is not None:
        cost = cost_fp * fp + cost_fn * fn
        i = int(np.argmin(cost))
        return {"threshold": float(cand[i]), "rule": f"min cost (fp={cost_fp}, fn={cost_fn})",
                "valid_cost": float(cost[i] / len(y))}
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    i = int(np.argmax(f1))
    return {"threshold": float(cand[i]), "rule": "max F1 on validation", "valid_f1": float(f1[i])}


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    y = np.asarray(y).astype(int)
    pred = (np.asarray(p) >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"threshold": float(threshold), "accuracy": (tp + tn) / max(len(y), 1), "precision": precision,
            "recall": recall, "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp}}


BOOTSTRAP_BLOCK_CELLS = 1 << 23    # weights held at once: 64 MB of float64 (the whole (B, n) matrix at 1.5M
                                    # test rows and 200 resamples would be 2.4 GB, times the temporaries)


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) resampling counts: row b says how often each row is drawn in resample b."""
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(np.float64)


def bootstrap_blocks(n: int, n_boot: int, rng: np.random.Generator,
                     cells: int | None = None) -> Iterator[np.ndarray]:
    """bootstrap_weights in consecutive blocks of resamples (the same draws in the same order), so memory
    stays bounded by `cells` weights whatever the row count."""
    per_block = max(1, (cells or BOOTSTRAP_BLOCK_CELLS) // max(n, 1))
    for start in range(0, n_boot, per_block):
        yield bootstrap_weights(n, min(per_block, n_boot - start), rng)


def over_resamples(n: int, n_boot: int, rng: np.random.Generator,
                   statistic: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`statistic(w)` (an array whose last axis is the resample) over all n_boot resamples, one block of
    weights at a time; equal to statistic(bootstrap_weights(n, n_boot, rng))."""
    return np.concatenate([statistic(w) for w in bootstrap_blocks(n, n_boot, rng)], axis=-1)


def weighted_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC-AUC for each row of weights `w` (shape (B, n)) in one vectorised pass (ties count 1/2)."""
    order = np.argsort(p, kind="stable")
    ps, ys = p[order], y[order].astype(np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(ps)) + 1]          # tie groups
    ws = w[:, order]
    pos = np.add.reduceat(ws * ys, starts, axis=1)
    neg = np.add.reduceat(ws * (1 - ys), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    denom = pos.sum(1) * neg.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (pos * (below + 0.5 * neg)).sum(1) / denom, np.nan)


def weighted_average_precision(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average precision (sklearn's step definition) for each row of weights `w`."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(ps)) + 1]
    ws = w[:, order]
    tp = np.cumsum(np.add.reduceat(ws * ys, starts, axis=1), axis=1)
    fp = np.cumsum(np.add.reduceat(ws * (1 - ys), starts, axis=1), axis=1)
    total = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        gain = np.diff(np.concatenate([np.zeros((len(w), 1)), tp], axis=1), axis=1)
        return np.where(total[:, 0] > 0, (gain * precision).sum(1) / total[:, 0], np.nan)


def bootstrap_ci(y: np.ndarray, p: np.ndarray, n_boot: int = 200, alpha: float = 0.05, seed: int = 0,
                 threshold: float | None = None, metrics: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Percentile bootstrap intervals {metric: {"value", "low", "high"}}, all resamples at once."""
    y = np.asarray(y).astype(int)
    raw, p = np.asarray(p, dtype=np.float64), _clip(p)    # ranks from the raw scores: clipping ties them
    draws = {
        "roc_auc": lambda w: weighted_auc(y, raw, w),
        "pr_auc": lambda w: weighted_average_precision(y, raw, w),
        "log_loss": lambda w: w @ -(y * np.log(p) + (1 - y) * np.log(1 - p)) / w.sum(1),
        "brier": lambda w: w @ (p - y) ** 2 / w.sum(1),
    }
    values = {"roc_auc": fast_auc(y, raw), "log_loss": float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))),
              "brier": float(np.mean((p - y) ** 2))}
    from sklearn.metrics import average_precision_score

    values["pr_auc"] = float(average_precision_score(y, raw)) if 0 < y.sum() < len(y) else float("nan")
    if threshold is not None:
        pred = (p >= threshold).astype(float)
        def f1(w: np.ndarray) -> np.ndarray:
            tp, fp, fn = w @ (pred * y), w @ (pred * (1 - y)), w @ ((1 - pred) * y)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        draws["f1"] = f1
        values["f1"] = threshold_metrics(y, p, threshold)["f1"]
    names = metrics or tuple(draws)
    resampled = over_resamples(len(y), n_boot, np.random.default_rng(seed),
                               lambda w: np.stack([draws[m](w) for m in names]))
    out = {}
    for m, d in zip(names, resampled):
        d = d[np.isfinite(d)]
        low, high = np.quantile(d, [alpha / 2, 1 - alpha / 2]) if len(d) else (np.nan, np.nan)
        out[m] = {"value": float(values[m]), "low": float(low), "high": float(high)}
    return out
