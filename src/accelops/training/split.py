"""Time-based train / valid / test split: the test split is always the most recent data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accelops.config import Contract


def time_split(df: pd.DataFrame, timestamp: str, fractions: tuple[float, float, float]) -> pd.Series:
    """A Series of 'train' / 'valid' / 'test' by event-time quantiles (ties stay together)."""
    ts = df[timestamp]
    q1, q2 = ts.quantile(fractions[0]), ts.quantile(fractions[0] + fractions[1])
    split = np.where(ts <= q1, "train", np.where(ts <= q2, "valid", "test"))
    return pd.Series(split, index=df.index, name="split")


def random_split(labels: pd.Series, fractions: tuple[float, float, float], seed: int) -> pd.Series:
    """'train' / 'valid' / 'test' at random, stratified by label (each class split in the fractions)."""
    out = np.empty(len(labels), dtype=object)
    rng = np.random.default_rng(seed)
    for value in pd.unique(labels):
        where = rng.permutation(np.flatnonzero((labels == value).to_numpy()))
        cut1 = int(round(len(where) * fractions[0]))
        cut2 = cut1 + int(round(len(where) * fractions[1]))
        out[where[:cut1]], out[where[cut1:cut2]], out[where[cut2:]] = "train", "valid", "test"
    return pd.Series(out, index=labels.index, name="split")


AUDIT_SHARE = 0.05     # of the train split at most, held out for the membership audit


def split_rows(df: pd.DataFrame, contract: Contract, fractions: tuple[float, float, float], seed: int,
               audit_rows: int = 0) -> pd.Series:
    """The split the stages use: by event time, or at random (stratified) when the timestamp is an
    ingestion time accelops made (dataset.derive_keys), which orders nothing. With `audit_rows`, that
    many train rows (at most AUDIT_SHARE of them), drawn at random, become 'audit': never fitted on, the
    membership audit's non-members from the training period itself (test rows come later in time, so
    telling them from training rows would measure drift, not memory)."""
    if "timestamp" in contract.derive_keys:
        split = random_split(df[contract.label], fractions, seed)
    else:
        split = time_split(df, contract.timestamp, fractions)
    train = np.flatnonzero((split == "train").to_numpy())
    n = min(audit_rows, int(len(train) * AUDIT_SHARE))
    if n > 0:
        split.iloc[np.random.default_rng(seed + 1).choice(train, n, replace=False)] = "audit"
    return split
