"""The scikit-learn baseline on the same split: does the network earn its keep?"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from accelops.config import Contract
from accelops.training.schema import BaselineResult


def train_baseline(train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame, contract: Contract,
                   max_iter: int, threads: int, seed: int) -> tuple[BaselineResult, np.ndarray]:
    """HistGradientBoosting with native categorical support and early stopping on the validation
    split, thread-limited; returns (test metrics, test probabilities)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from accelops.evaluation.metrics import overall_metrics
    from accelops.runtime import available_cores

    cols = contract.feature_columns
    cats = {c: pd.CategoricalDtype(sorted(map(str, train[c].dropna().unique()))) for c in contract.categorical_features}

    def prep(df: pd.DataFrame) -> pd.DataFrame:
        x = df[cols].copy()
        for c, dtype in cats.items():
            x[c] = x[c].astype(str).astype(dtype)          # unseen categories become missing
        return x

    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed,
                                           early_stopping=False, warm_start=True)
    started = time.perf_counter()
    with threadpool_limits(limits=threads or available_cores()):
        # early stopping on the time-based validation split (not a random slice of train):
        # grow 25 trees at a time with warm start, stop after two rounds without AUC gain
        best, best_iter, stale, y_valid = -1.0, 0, 0, valid[contract.label].to_numpy()
        x_train, y_train, x_valid = prep(train), train[contract.label].to_numpy(), prep(valid)
        for it in range(25, max_iter + 1, 25):
            model.set_params(max_iter=it).fit(x_train, y_train)
            auc = overall_metrics(y_valid, model.predict_proba(x_valid)[:, 1])["roc_auc"]
            if auc > best + 1e-5:
                best, best_iter, stale = auc, it, 0
            else:
                stale += 1
                if stale >= 2:
                    break
        model.set_params(max_iter=best_iter, warm_start=False).fit(x_train, y_train)
        p = model.predict_proba(prep(test))[:, 1]
    metrics = overall_metrics(test[contract.label].to_numpy(), p)
    return BaselineResult(**metrics, seconds=time.perf_counter() - started, iterations=best_iter,
                          best_valid_auc=best), p
