"""The reference profile: statistics of the reference data (per numeric column mean, std, 5/50/95%
quantiles, null rate; label positive rate; category shares; time span), from which the suite derives
its mean, quantile and class-balance bounds. Written by the `reference` stage to
workdir/reference/profile.json. Aggregates only: no row and no raw value of a PII column is stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from accelops.config import Contract

QUANTILES = (0.05, 0.5, 0.95)


class ReferenceSummary(BaseModel):
    """What the `reference` stage built from (or found up to date)."""
    source: str
    source_sha256: str
    rows: int                 # rows passing the contract's row rules, profiled
    recomputed: bool          # False when the stored reference already matched the source's hash


def build_profile(df: pd.DataFrame, contract: Contract, source: str, source_sha256: str | None = None) -> dict:
    numeric = {}
    for col in contract.numeric_features:
        x = pd.to_numeric(df[col], errors="coerce")
        q = x.quantile(list(QUANTILES)).to_list()
        numeric[col] = {"mean": float(x.mean()), "std": float(x.std()), "quantiles": [float(v) for v in q],
                        "null_rate": float(x.isna().mean())}
    categorical = {col: {str(k): float(v) for k, v in df[col].value_counts(normalize=True).items()}
                   for col in contract.categorical_features}
    ts = pd.to_datetime(df[contract.timestamp], utc=True)
    return {"source": source, "source_sha256": source_sha256, "rows": int(len(df)), "numeric": numeric,
            "categorical": categorical,
            "label_rate": float(df[contract.label].mean()), "quantiles": list(QUANTILES),
            "timestamp": {"min": ts.min().isoformat(), "max": ts.max().isoformat()}}


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def contract_rows(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The rows that pass the contract's row-level rules (keys and label present, numbers within
    their bounds, categories in their sets, label 0/1): what a reference is built from."""
    from accelops.validation.quarantine import row_failures

    rules = [{"rule": "expect_column_values_to_not_be_null", "column": col}
             for col in (contract.entity_id, contract.timestamp, contract.label)]
    rules += [{"rule": "expect_column_values_to_be_between", "column": col} for col in contract.numeric_features]
    rules += [{"rule": "expect_column_values_to_be_in_set", "column": col, "expected": {"value_set": values}}
              for col, values in contract.categorical_features.items()]
    rules.append({"rule": "expect_column_values_to_be_in_set", "column": contract.label,
                  "expected": {"value_set": [0, 1]}})
    passing = (row_failures(df, contract, rules) == "").to_numpy()
    return df if passing.all() else df[passing]          # no copy of a clean table


def near_duplicates(df: pd.DataFrame, contract: Contract) -> int:
    """Rows identical to an earlier row on every feature and the label (ids and timestamps ignored)."""
    cols = [*contract.feature_columns, *[contract.label] * (contract.label in df)]
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
