"""The reference profile: statistics of the first accepted training data (per numeric column mean,
std, 5/50/95% quantiles, null rate; label positive rate; category shares; time span), from which
the suite derives its mean, quantile and class-balance bounds. Kept at workdir/reference/profile.json.
Aggregates only: no row and no raw value of a PII column is ever stored."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import Contract

QUANTILES = (0.05, 0.5, 0.95)


def build_profile(df: pd.DataFrame, contract: Contract, source: str) -> dict:
    numeric = {}
    for col in contract.numeric_features:
        x = pd.to_numeric(df[col], errors="coerce")
        q = x.quantile(list(QUANTILES)).to_list()
        numeric[col] = {"mean": float(x.mean()), "std": float(x.std()), "quantiles": [float(v) for v in q],
                        "null_rate": float(x.isna().mean())}
    categorical = {col: {str(k): float(v) for k, v in df[col].value_counts(normalize=True).items()}
                   for col in contract.categorical_features}
    ts = pd.to_datetime(df[contract.timestamp], utc=True)
    return {"source": source, "rows": int(len(df)), "numeric": numeric, "categorical": categorical,
            "label_rate": float(df[contract.label].mean()), "quantiles": list(QUANTILES),
            "timestamp": {"min": ts.min().isoformat(), "max": ts.max().isoformat()}}


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def save_if_missing(df: pd.DataFrame, contract: Contract, source: str, path: Path) -> bool:
    """Write the profile of `df` as the reference unless one exists; True when written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_profile(df, contract, source), indent=2))
    return True


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def near_duplicates(df: pd.DataFrame, contract: Contract) -> int:
    """Rows identical to an earlier row on every feature and the label (ids and timestamps ignored)."""
    cols = [*contract.feature_columns, contract.label]
    return int(df.duplicated(cols, keep="first").sum()) if len(df) else 0


def slice_support(df: pd.DataFrame, contract: Contract, minimum: int) -> list[dict]:
    """The contract's slice values with fewer than `minimum` rows (absent ones included): too few to
    evaluate or monitor. Only declared values are named; values outside the contract are the set
    rule's business and are never echoed."""
    low = []
    for col in contract.slices:
        counts = df[col].astype(str).value_counts()
        for value in contract.categorical_features[col]:
            n = int(counts.get(str(value), 0))
            if n < minimum:
                low.append({"slice": col, "value": str(value), "rows": n, "minimum": minimum})
    return low


def class_balance(df: pd.DataFrame, contract: Contract) -> dict:
    y = df[contract.label]
    pos = float(y.mean()) if len(y) else float("nan")
    return {"positive_rate": pos, "imbalance_ratio": float((1 - pos) / pos) if pos and np.isfinite(pos) else None}
