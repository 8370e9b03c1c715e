"""Group fairness at the decision threshold: demographic parity and equal opportunity gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd


def fairness_report(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float,
                    sensitive: list[str], min_support: int) -> dict:
    """Per sensitive column: selection rate and TPR per group (groups under min_support skipped),
    demographic-parity difference (max - min selection rate) and equal-opportunity difference
    (max - min TPR); plus the largest gap overall."""
    y = np.asarray(y).astype(int)
    pred = np.asarray(p) >= threshold
    columns = {}
    for col in sensitive:
        values = frame[col].astype(object).fillna("<missing>").astype(str).to_numpy()
        groups = {}
        for g in sorted(set(values)):
            m = values == g
            if m.sum() < min_support:
                continue
            pos = m & (y == 1)
            groups[g] = {"support": int(m.sum()), "selection_rate": float(pred[m].mean()),
                         "tpr": float(pred[pos].mean()) if pos.any() else None}
        sel = [v["selection_rate"] for v in groups.values()]
        tpr = [v["tpr"] for v in groups.values() if v["tpr"] is not None]
        columns[col] = {"groups": groups,
                        "demographic_parity_difference": float(max(sel) - min(sel)) if len(sel) > 1 else 0.0,
                        "equal_opportunity_difference": float(max(tpr) - min(tpr)) if len(tpr) > 1 else 0.0}
    largest = max(((c, k, v[k]) for c, v in columns.items()
                   for k in ("demographic_parity_difference", "equal_opportunity_difference")),
                  key=lambda t: t[2], default=None)
    return {"threshold": float(threshold), "columns": columns,
            "largest_gap": {"column": largest[0], "metric": largest[1], "value": largest[2]} if largest else None}
