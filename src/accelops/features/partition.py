"""Rows split by entity, for the per-entity work that fans out (accelops.fanout): every row of one entity
lands in the same part (a stable hash of its id), and each part keeps the rows in file order. A
per-entity computation (the as-of join, the trailing window aggregates) run on each part alone and put
back by row position therefore equals the same computation over the whole table, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd


def entity_parts(keys: pd.Series, parts: int) -> list[np.ndarray]:
    """Row positions of each part, ascending: part = hash(key) mod parts. The hash is pandas' fixed-key
    SipHash of the values, so two columns of one dtype put a key in the same part (cast them to one
    dtype first)."""
    if parts <= 1:
        return [np.arange(len(keys))]
    part = (pd.util.hash_pandas_object(keys, index=False).to_numpy() % np.uint64(parts)).astype(np.int64)
    order = np.argsort(part, kind="stable")              # positions grouped by part, ascending within it
    return np.split(order, np.cumsum(np.bincount(part, minlength=parts))[:-1])


def put_back(n: int, parts: list[np.ndarray], pieces: list[np.ndarray], fill, dtype) -> np.ndarray:
    """One array of n rows from each part's values at that part's row positions."""
    out = np.full(n, fill, dtype=dtype)
    for rows, values in zip(parts, pieces):
        out[rows] = values
    return out
