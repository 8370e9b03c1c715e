"""Per-slice metrics with bootstrap intervals, for every slice value and pairwise crosses.

A slice is flagged weak only when its whole interval lies below the overall metric by more
than the tolerance: small slices with wide intervals are reported, never flagged on noise."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from accelops.evaluation.metrics import fast_auc, over_resamples, weighted_auc
from accelops.fanout import Fanout, InProcess


def _groups(frame: pd.DataFrame, slices: list[str], crosses: bool):
    for col in slices:
        yield (col,), frame[col].astype(object).fillna("<missing>").astype(str).to_numpy()
    if crosses:
        for a, b in combinations(slices, 2):
            yield (a, b), (frame[a].astype(object).fillna("<missing>").astype(str) + " & " +
                           frame[b].astype(object).fillna("<missing>").astype(str)).to_numpy()


def slice_report(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, slices: list[str], min_support: int,
                 tolerance: float, overall_auc: float, n_boot: int = 200, crosses: bool = True,
                 seed: int = 0, fan: Fanout | None = None) -> list[dict]:
    """Records {slice, value, support, positive_rate, roc_auc, low, high, weak} sorted worst first. Each
    slice column (and cross) is one piece of work on `fan` (in this process when None), its bootstrap
    seeded by (seed, its position): the same records wherever the pieces run."""
    groups = []
    for i, (cols, values) in enumerate(_groups(frame, slices, crosses)):
        codes, uniq = pd.factorize(values, sort=True)          # the values' sorted order, as np.unique
        groups.append((i, cols, codes.astype(np.int32), [str(u) for u in uniq]))
    rows = [rec for part in (fan or InProcess()).map(
        _group_records, groups, y=np.asarray(y).astype(np.int8), p=np.asarray(p, dtype=np.float64),
        min_support=min_support, tolerance=tolerance, overall_auc=overall_auc, n_boot=n_boot, seed=seed)
        for rec in part]
    return sorted(rows, key=lambda r: (r["roc_auc"] is None, r["roc_auc"] if r["roc_auc"] is not None else 0))


def _group_records(group: tuple, y: np.ndarray, p: np.ndarray, min_support: int, tolerance: float,
                   overall_auc: float, n_boot: int, seed: int) -> list[dict]:
    """One slice column's (or cross's) records: a piece of slice_report."""
    index, cols, codes, uniq = group
    rng = np.random.default_rng([seed, index])
    counts = np.bincount(codes, minlength=len(uniq))
    order = np.argsort(codes, kind="stable")                   # each value's rows, in row order
    bounds = np.r_[0, np.cumsum(counts)]
    rows = []
    for k, value in enumerate(uniq):
        if counts[k] < min_support and len(cols) > 1:
            continue                              # crosses below support are not listed at all
        idx = order[bounds[k]:bounds[k + 1]]
        ys, ps = y[idx].astype(int), p[idx]
        rec = {"slice": " x ".join(cols), "value": value, "support": int(counts[k]),
               "positive_rate": float(ys.mean()), "roc_auc": None, "low": None, "high": None, "weak": False}
        if counts[k] >= min_support and 0 < ys.sum() < len(ys):
            boots = over_resamples(len(idx), n_boot, rng, lambda w: weighted_auc(ys, ps, w))
            boots = boots[np.isfinite(boots)]
            low, high = np.quantile(boots, [0.025, 0.975])
            rec.update(roc_auc=fast_auc(ys, ps), low=float(low), high=float(high),
                       weak=bool(high < overall_auc - tolerance))
        rows.append(rec)
    return rows
