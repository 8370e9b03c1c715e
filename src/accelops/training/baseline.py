"""The gradient-boosting candidate on the same split and the same inputs as the network: does the
network earn its keep? It trains on the network's Preprocessor output (standardised numerics and
category codes; histogram bins are unchanged by the standardisation), so both kinds of model read
the same arrays, serve through the same runner interface and are saved in the same model folder."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.training.preprocess import Preprocessor
from accelops.training.schema import BaselineResult

MAX_NATIVE_CATEGORIES = 255     # HistGradientBoosting's limit on a native categorical feature's codes


def design(xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
    """The boosting model's input matrix: numerics, then category codes (float32), with the reserved
    code 0 (a missing or never-seen category) as NaN, so scikit-learn and Treelite both send it down
    each split's missing-value branch."""
    if not xc.shape[1]:
        return xn
    codes = xc.astype(np.float32)
    codes[xc == 0] = np.nan
    return np.hstack([xn, codes])


def native_categories(preprocessor: Preprocessor) -> list[int]:
    """Columns of `design` treated as native categoricals (codes above the limit stay ordinal)."""
    first = len(preprocessor.numeric)
    return [first + j for j, n in enumerate(preprocessor.cardinalities) if n <= MAX_NATIVE_CATEGORIES]


def train_baseline(train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame, label: str,
                   preprocessor: Preprocessor, out_dir: Path, max_iter: int, threads: int,
                   seed: int) -> tuple[BaselineResult, np.ndarray]:
    """HistGradientBoosting with native categorical support, early stopping and temperature scaling on
    the validation split, thread-limited; saved as a model folder in `out_dir`. Returns (its result
    with test metrics, its calibrated test probabilities)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from accelops.evaluation.calibration import calibrated, fit_temperature
    from accelops.evaluation.metrics import fast_auc, overall_metrics
    from accelops.runtime import threads_for
    from accelops.training import model_folder

    x_train, x_valid, x_test = (design(*preprocessor.transform(df)) for df in (train, valid, test))
    y_train, y_valid = train[label].to_numpy(), valid[label].to_numpy()
    cats = native_categories(preprocessor)
    model = HistGradientBoostingClassifier(categorical_features=cats or None, random_state=seed,
                                           early_stopping=False, warm_start=True)
    started = time.perf_counter()
    with threadpool_limits(limits=threads_for(len(train), threads)):
        # early stopping on the time-based validation split (not a random slice of train):
        # grow 25 trees at a time with warm start, stop after two rounds without AUC gain
        best, best_iter, stale = -1.0, 0, 0
        for it in range(25, max_iter + 1, 25):
            model.set_params(max_iter=it).fit(x_train, y_train)
            auc = fast_auc(y_valid, model.decision_function(x_valid))
            if auc > best + 1e-5:
                best, best_iter, stale = auc, it, 0
            else:
                stale += 1
                if stale >= 2:
                    break
        model.set_params(max_iter=best_iter, warm_start=False).fit(x_train, y_train)
        temperature = fit_temperature(y_valid, model.decision_function(x_valid))
        p = calibrated(model.decision_function(x_test), temperature)
    seconds = time.perf_counter() - started
    model_folder.save_boosting(out_dir, model, preprocessor,
                               {"model": "HistGradientBoostingClassifier", "iterations": best_iter,
                                "native_categorical_columns": cats},
                               {"temperature": temperature, "fitted_on": "validation split"})
    metrics = overall_metrics(test[label].to_numpy(), p)
    return BaselineResult(**metrics, seconds=seconds, iterations=best_iter, best_valid_auc=best), p
