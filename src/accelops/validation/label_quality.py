"""Label noise and poisoning: confident learning (Northcutt et al.) on out-of-fold probabilities.

A fast model (HistGradientBoosting, thread-limited) is fitted K times; each row is scored by the
model that did not see it. Per-class thresholds are the mean probability of the class among rows
given that label; a row whose confidently predicted class (above its threshold, highest
probability) differs from its label is flagged as a likely label error."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import Contract
from accelops.fanout import Fanout, InProcess, piece_threads


class LabelQuality(BaseModel):
    """Confident-learning flags on one table (counts only)."""
    model_config = ConfigDict(extra="forbid")
    rows: int
    flagged: int
    rate: float
    thresholds: list[float]
    flagged_by_label: dict[str, int]


class LabelCheck(LabelQuality):
    """reports/label_quality.json: the flags compared with the reference data's rate."""
    reference_rate: float
    excess: float
    scope: str = "all rows"        # which rows were judged, by a model fit on which rows


class ReferenceLabels(LabelQuality):
    """workdir/reference/label_quality.json: the reference data's rate (the `reference` stage)."""
    source: str
    source_sha256: str


SCORE_CHUNK = 1_000_000           # rows outside the fitting sample are scored this many at a time


def _inputs(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    x = df[contract.feature_columns].copy()
    for c in contract.categorical_features:
        x[c] = x[c].astype(str).astype("category")
    return x


def out_of_fold_proba(df: pd.DataFrame, contract: Contract, folds: int | None = 5, threads: int = 0,
                      seed: int = 0, max_iter: int = 100, fit_rows: int | None = None,
                      fan: Fanout | None = None) -> np.ndarray:
    """Each row's probability from a model that did not see it (`folds` null: sized by the rows).
    With more than `fit_rows` rows, the folds are fit on a seeded sample of `fit_rows` rows (each
    sampled row scored out of fold as before) and every other row, seen by none of the fold models, is
    scored by their average, a chunk at a time: time and memory stop growing with the table while every
    row is still judged out of sample. Each fold is one piece of work on `fan` (accelops.fanout; in this
    process when None): the same probabilities wherever the folds are fit."""
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from accelops.runtime import threads_for
    from accelops.training.sizing import label_folds

    fan = fan or InProcess()
    y_all = df[contract.label].to_numpy(int)
    sampled = fit_rows is not None and len(df) > fit_rows
    fit_idx = np.sort(np.random.default_rng(seed).choice(len(df), fit_rows, replace=False)) if sampled else None
    fit = df.iloc[fit_idx] if sampled else df
    x, y = _inputs(fit, contract), y_all[fit_idx] if sampled else y_all
    folds = folds or label_folds(len(y), int(min(y.sum(), len(y) - y.sum())))
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y))
    threads_each = threads_for(len(fit), threads) if fan.workers == 1 else piece_threads(fan, threads)
    fitted = fan.map(_fold, [(test_idx, sampled) for _, test_idx in splits], x=x, y=y, seed=seed,
                     max_iter=max_iter, threads=threads_each)
    oof = np.empty(len(fit))
    for (_, test_idx), (proba, _) in zip(splits, fitted):
        oof[test_idx] = proba
    if not sampled:
        return oof
    models = [model for _, model in fitted]
    del x
    out = np.empty(len(df))
    out[fit_idx] = oof
    rest = np.setdiff1d(np.arange(len(df)), fit_idx, assume_unique=True)
    with threadpool_limits(limits=threads_for(len(fit), threads)):
        for start in range(0, len(rest), SCORE_CHUNK):
            part = rest[start:start + SCORE_CHUNK]
            chunk = _inputs(df.iloc[part], contract)
            out[part] = np.mean([m.predict_proba(chunk)[:, 1] for m in models], axis=0)
    return out


def _fold(item: tuple[np.ndarray, bool], x: pd.DataFrame, y: np.ndarray, seed: int, max_iter: int,
          threads: int):
    """One fold of out_of_fold_proba: fit on every row but `test_idx`, score those; the model too when
    it will score the rows outside the fitting sample."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    test_idx, keep = item
    train = np.ones(len(y), dtype=bool)
    train[test_idx] = False
    with threadpool_limits(limits=threads):
        model = HistGradientBoostingClassifier(max_iter=max_iter, categorical_features="from_dtype",
                                               random_state=seed)
        model.fit(x.iloc[np.flatnonzero(train)], y[train])
        proba = model.predict_proba(x.iloc[test_idx])[:, 1]
    return proba, model if keep else None


def confident_learning_flags(y: np.ndarray, p1: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Boolean flags of likely label errors and the per-class thresholds (binary case)."""
    y = np.asarray(y).astype(int)
    probs = np.column_stack([1 - p1, p1])
    thresholds = [float(probs[y == k, k].mean()) if (y == k).any() else 1.0 for k in (0, 1)]
    above = probs >= np.asarray(thresholds)
    confident = np.where(above, probs, -1.0)
    predicted = confident.argmax(axis=1)
    flags = above.any(axis=1) & (predicted != y)
    return flags, thresholds


def label_quality(df: pd.DataFrame, contract: Contract, folds: int | None = 5, threads: int = 0,
                  seed: int = 0, fit_rows: int | None = None,
                  fan: Fanout | None = None) -> tuple[LabelQuality, np.ndarray]:
    y = df[contract.label].to_numpy(int)
    flags, thresholds = confident_learning_flags(y, out_of_fold_proba(df, contract, folds, threads, seed,
                                                                      fit_rows=fit_rows, fan=fan))
    summary = LabelQuality(rows=len(df), flagged=int(flags.sum()), rate=float(flags.mean()), thresholds=thresholds,
                           flagged_by_label={str(k): int((flags & (y == k)).sum()) for k in (0, 1)})
    return summary, flags


def matched_reference_rate(reference: pd.DataFrame, contract: Contract, rows: int, positive_rate: float,
                           folds: int | None = 5, threads: int = 0, seed: int = 0,
                           fan: Fanout | None = None) -> LabelQuality:
    """The label check on a sample of the reference data with `rows` rows (fewer when the reference
    cannot supply them without repeating a row: a repeated row is memorised, not judged) and the given
    positive rate (classes drawn separately): the rate clean labels give at that class balance. Confident
    learning flags more rows as the classes even out (measured on the generator: 14.4% on the history,
    17.8% at the 23% positive rate a covariate shift brings, on clean labels both), so new rows are
    judged against the reference at their own balance, not its overall rate."""
    y = reference[contract.label].to_numpy(int)
    pos, neg = reference[y == 1], reference[y == 0]
    rate = min(max(positive_rate, 1e-6), 1 - 1e-6)
    rows = int(min(rows, len(pos) / rate, len(neg) / (1 - rate)))
    least = folds or 5
    k = min(max(int(round(rows * rate)), least), len(pos), rows - least)
    sample = pd.concat([pos.sample(k, random_state=seed), neg.sample(min(rows - k, len(neg)), random_state=seed)],
                       ignore_index=True)
    return label_quality(sample, contract, folds, threads, seed, fan=fan)[0]


def check_against_reference(summary: LabelQuality, reference: LabelQuality, max_excess: float,
                            source: str) -> LabelCheck:
    """Compare with the reference data's rate (the `reference` stage); raise LabelQualityError when the
    excess is above `max_excess`."""
    from accelops.errors import LabelQualityError

    excess = summary.rate - reference.rate
    if excess > max_excess:
        raise LabelQualityError(
            f"{source}: label column: likely label errors in {summary.rate:.1%} of rows "
            f"({summary.flagged} of {summary.rows}), {excess:+.1%} over the reference data's {reference.rate:.1%} "
            f"(allowed +{max_excess:.1%}); flipped or poisoned labels?")
    return LabelCheck(**summary.model_dump(), reference_rate=reference.rate, excess=excess)
