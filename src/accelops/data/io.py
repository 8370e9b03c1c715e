"""Reading and writing tables with errors that name the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from accelops.config import Contract
from accelops.errors import DataFormatError


class Generated(BaseModel):
    """A generated table on disk: the data, its ground-truth manifest, the row count."""
    data: str
    manifest: str
    rows: int


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; any failure becomes a DataFormatError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            df = pd.read_parquet(path)
        elif suffix in {".csv", ".txt"}:
            df = pd.read_csv(path)
        else:
            raise DataFormatError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")
    except DataFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except Exception as exc:  # pyarrow / pandas parser errors
        raise DataFormatError(f"{path}: cannot be read as {suffix[1:]}: {type(exc).__name__}: {exc}") from None
    if df.empty:
        raise DataFormatError(f"{path}: no rows")
    return df


def conform(df: pd.DataFrame, contract: Contract, path: str | Path, require_label: bool = True) -> pd.DataFrame:
    """Check the contract's columns are present and coerce key dtypes (timestamps to UTC)."""
    required = [c for c in contract.columns if require_label or c != contract.label]
    missing = [c for c in required if c not in df.columns]
    if missing:
        if len(df.columns) == 1 and any(sep in str(df.columns[0]) for sep in ";|\t"):
            raise DataFormatError(f"{path}: only one column was read (wrong delimiter? the CSV must be "
                                  f"comma-separated); {len(required)} contract columns expected")
        raise DataFormatError(f"{path}: missing contract column(s) {missing}")
    df = df.copy()
    ts = contract.timestamp
    try:
        df[ts] = pd.to_datetime(df[ts], utc=True)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{path}: column {ts}: not a timestamp: {exc}") from None
    for col in contract.numeric_features:
        if not pd.api.types.is_numeric_dtype(df[col]):
            converted = pd.to_numeric(df[col], errors="coerce")
            bad = int(converted.isna().sum() - df[col].isna().sum())
            raise DataFormatError(f"{path}: column {col}: expected numbers, {bad} value(s) are not numeric")
        df[col] = df[col].astype("float64")
    for col in contract.categorical_features:
        df[col] = df[col].astype("string").astype(object)
    # one block per dtype: the per-column assignments above leave ~20 blocks, and every Great
    # Expectations metric then re-consolidates a copy (measured 2.8x slower validation)
    return df.copy()


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
