"""Overall metrics, decision threshold, confusion matrix and bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np

MAIN_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")


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
    p = _clip(p)
    two = len(np.unique(y)) == 2
    return {
        "roc_auc": fast_auc(y, p),
        "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
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


def _metric_fns(threshold: float | None):
    from sklearn.metrics import average_precision_score

    fns = {
        "roc_auc": fast_auc,
        "pr_auc": lambda y, p: float(average_precision_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "log_loss": lambda y, p: float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        "brier": lambda y, p: float(np.mean((p - y) ** 2)),
    }
    if threshold is not None:
        fns["f1"] = lambda y, p: threshold_metrics(y, p, threshold)["f1"]
    return fns


def bootstrap_ci(y: np.ndarray, p: np.ndarray, n_boot: int = 200, alpha: float = 0.05, seed: int = 0,
                 threshold: float | None = None, metrics: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Percentile bootstrap intervals: {metric: {"value", "low", "high"}}."""
    y = np.asarray(y).astype(int)
    p = _clip(p)
    fns = _metric_fns(threshold)
    names = metrics or tuple(fns)
    rng = np.random.default_rng(seed)
    draws = {m: np.empty(n_boot) for m in names}
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        for m in names:
            draws[m][b] = fns[m](y[idx], p[idx])
    out = {}
    for m in names:
        d = draws[m][np.isfinite(draws[m])]
        value = fns[m](y, p)
        low, high = (np.quantile(d, [alpha / 2, 1 - alpha / 2]) if len(d) else (np.nan, np.nan))
        out[m] = {"value": float(value), "low": float(low), "high": float(high)}
    return out

