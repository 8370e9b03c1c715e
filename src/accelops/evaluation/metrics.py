"""Overall metrics on the test split and AUC per value of each slice column."""

from __future__ import annotations

import numpy as np
import pandas as pd


def overall_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    two = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "positive_rate": float(y.mean()),
        "rows": int(len(y)),
    }


def slice_metrics(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, slices: list[str],
                  min_support: int) -> list[dict]:
    """One record per (slice column, value): support, positive rate, AUC (None when undefined)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=np.float64)
    rows = []
    for col in slices:
        values = frame[col].astype(object).fillna("<missing>").to_numpy()
        for value in sorted(set(values), key=str):
            mask = values == value
            ys = y[mask]
            auc = None
            if mask.sum() >= min_support and len(np.unique(ys)) == 2:
                auc = float(roc_auc_score(ys, p[mask]))
            rows.append({"slice": col, "value": str(value), "support": int(mask.sum()),
                         "positive_rate": float(ys.mean()) if len(ys) else None, "roc_auc": auc})
    return rows
