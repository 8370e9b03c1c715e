"""Rows that fail row-level rules, kept for inspection: a Parquet of the raw rows (by design it
may hold PII, so it stays in the workdir and never goes to MLflow or reports) beside a JSON
summary that holds counts only."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import Contract


def row_failures(df: pd.DataFrame, contract: Contract, failures: list[dict]) -> pd.Series:
    """For each row, the failed rules it violates ('' when none), mirroring the GE suite."""
    marks: list[tuple[np.ndarray, str]] = []
    for f in failures:
        col, rule = f.get("column"), f["rule"]
        if f.get("check") in ("reference", "class_balance"):
            continue                      # batch-level statistics: no row is at fault on its own
        if rule == "expect_column_values_to_not_be_null" and col in df:
            marks.append((df[col].isna().to_numpy(), f"{col}:null"))
        elif rule == "expect_column_values_to_be_between" and col in df:
            lo, hi = contract.numeric_features[col]
            v = df[col].to_numpy(np.float64)
            out = np.zeros(len(df), bool)
            if lo is not None:
                out |= v < lo
            if hi is not None:
                out |= v > hi
            marks.append((out, f"{col}:range"))
        elif rule == "expect_column_values_to_be_in_set" and col in df:
            allowed = list(f["expected"]["value_set"])
            ok = df[col].isin(allowed) | df[col].astype(str).isin(set(map(str, allowed)))
            marks.append(((df[col].notna() & ~ok).to_numpy(), f"{col}:set"))
        elif rule == "expect_compound_columns_to_be_unique" and f.get("check") == "near_duplicates":
            cols = [*contract.feature_columns, *[contract.label] * (contract.label in df)]
            marks.append((df.duplicated(cols, keep="first").to_numpy(), "near_duplicate"))
        elif rule == "expect_compound_columns_to_be_unique":
            marks.append((df.duplicated(f["columns"], keep="first").to_numpy(), "duplicate_key"))
    reasons = np.full(len(df), "", dtype=object)
    for mask, tag in marks:
        reasons[mask] = [f"{r};{tag}" if r else tag for r in reasons[mask]]
    return pd.Series(reasons, index=df.index)


def write_quarantine(df: pd.DataFrame, reasons: pd.Series, source: str, folder: Path) -> dict:
    """Write the failing rows and a counts-only summary; returns the summary."""
    bad = reasons.ne("")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    rows_path = folder / f"{Path(source).stem}-{stamp}.parquet"
    df[bad.to_numpy()].assign(__failed_rules=reasons[bad]).to_parquet(rows_path, index=False)
    per_rule: dict[str, int] = {}
    for r in reasons[bad]:
        for tag in r.split(";"):
            per_rule[tag] = per_rule.get(tag, 0) + 1
    summary = {"source": str(source), "rows": int(len(df)), "quarantined_rows": int(bad.sum()),
               "per_rule": per_rule, "rows_file": str(rows_path),
               "note": "the rows file holds raw rows (possibly PII): inspect locally, never upload"}
    (folder / f"{Path(source).stem}-{stamp}.json").write_text(json.dumps(summary, indent=2))
    return summary
