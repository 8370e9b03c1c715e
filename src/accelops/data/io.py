"""Reading and writing tables with errors that name the file and the problem."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from accelops.config import Contract
from accelops.errors import DataFormatError


class Generated(BaseModel):
    """A generated table on disk: the data, its ground-truth manifest, the row count."""
    data: str
    manifest: str
    rows: int


def read_table(path: str | Path, columns: list[str] | None = None, strings: list[str] | tuple = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file; any failure becomes a DataFormatError naming the file. `columns`:
    read only those of them the file has (the others are left for the contract check to name).
    `strings`: text columns kept as Arrow-backed strings instead of Python objects (names, emails,
    phones: every value distinct, ~70 bytes a value as objects, ~25 as Arrow; 10M rows of three such
    columns were 2.2 GB as objects). A Parquet file is converted a column at a time, each Arrow column
    freed as it is converted (pyarrow's split_blocks + self_destruct), not held beside the whole frame."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            df = _read_parquet(path, columns, strings)
        elif suffix in {".csv", ".txt"}:
            wanted = None if columns is None else set(columns)
            df = pd.read_csv(path, usecols=None if wanted is None else (lambda c: c in wanted),
                             dtype={c: pd.StringDtype("pyarrow") for c in strings} or None)
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


def _read_parquet(path: Path, columns: list[str] | None, strings) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    table = pq.read_table(path, columns=columns, use_pandas_metadata=True)
    for name in strings:
        i = table.schema.get_field_index(name)
        if i >= 0 and (pa.types.is_string(table.schema.field(i).type) or pa.types.is_large_string(table.schema.field(i).type)):
            table = table.set_column(i, name, table.column(i).cast(pa.large_string()))
    mapper = {pa.large_string(): pd.StringDtype("pyarrow")}.get if strings else None
    return table.to_pandas(types_mapper=mapper, split_blocks=True, self_destruct=True)


def derive_keys(df: pd.DataFrame, contract: Contract, path: str | Path) -> pd.DataFrame:
    """The key columns the contract says accelops makes (dataset.derive_keys) when the file lacks them:
    a row number unique per file (the file name's CRC32 in bits 40-54, the row's position below), and
    the file's modification time as every row's ingestion time. A file that has the column keeps it."""
    path = Path(path)
    made = {}
    if "entity_id" in contract.derive_keys and contract.entity_id not in df.columns:
        made[contract.entity_id] = ((zlib.crc32(path.name.encode()) & 0x7FFF) << 40) + np.arange(len(df), dtype=np.int64)
    if "timestamp" in contract.derive_keys and contract.timestamp not in df.columns:
        stamp = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC") if path.exists() else pd.Timestamp.now("UTC")
        made[contract.timestamp] = stamp.floor("s")
    return df.assign(**made) if made else df


def binary_label(values: pd.Series, contract: Contract, path: str | Path) -> pd.Series:
    """The label as 0/1. With the default positive_label 1 it is left as is (validation reports values
    other than 0/1 row by row); a declared positive value ('yes', 'M', 2) maps to 1 and the one other
    value to 0 (compared as text, so 2 and 2.0 match)."""
    present = values.dropna()
    if present.empty or (isinstance(contract.positive_label, int) and contract.positive_label == 1):
        return values
    text = present.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    distinct = sorted(text.unique())
    positive = str(contract.positive_label)
    if len(distinct) > 2 or positive not in distinct and len(distinct) == 2:
        raise DataFormatError(f"{path}: column {contract.label}: a binary label with positive value {positive!r} "
                              f"(dataset.positive_label) has that value and one other; found {distinct[:6]}")
    out = pd.Series(np.nan, index=values.index)
    out[present.index] = (text == positive).astype("float64").to_numpy()
    return out if out.isna().any() else out.astype("int64")


def conform(df: pd.DataFrame, contract: Contract, path: str | Path, require_label: bool = True) -> pd.DataFrame:
    """Check the contract's columns are present (making the derived keys), map the label to 0/1 and
    coerce key dtypes (timestamps to UTC)."""
    df = derive_keys(df, contract, path)
    required = [c for c in contract.columns if require_label or c != contract.label]
    missing = [c for c in required if c not in df.columns]
    if missing:
        if len(df.columns) == 1 and any(sep in str(df.columns[0]) for sep in ";|\t"):
            raise DataFormatError(f"{path}: only one column was read (wrong delimiter? the CSV must be "
                                  f"comma-separated); {len(required)} contract columns expected")
        raise DataFormatError(f"{path}: missing contract column(s) {missing}")
    cols = {name: df[name] for name in df.columns}      # changed columns are replaced, the rest kept as is
    if contract.label in cols:
        cols[contract.label] = binary_label(df[contract.label], contract, path)
    ts = contract.timestamp
    try:
        cols[ts] = pd.to_datetime(df[ts], utc=True)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{path}: column {ts}: not a timestamp: {exc}") from None
    for col in contract.numeric_features:
        if not pd.api.types.is_numeric_dtype(df[col]):
            converted = pd.to_numeric(df[col], errors="coerce")
            bad = int(converted.isna().sum() - df[col].isna().sum())
            raise DataFormatError(f"{path}: column {col}: expected numbers, {bad} value(s) are not numeric")
        cols[col] = df[col].astype("float64", copy=False)
    for col in contract.categorical_features:
        values = df[col]
        if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")       # coded categories: 2.0 (a CSV column with nulls) reads "2"
        cols[col] = values.astype("string").astype(object)
    # one block per dtype, built in one copy: per-column assignments leave ~20 blocks, and every Great
    # Expectations metric then re-consolidates a copy (measured 2.8x slower validation); copying the frame
    # first and consolidating after held three copies at once (the peak of reference/validate at 10M rows)
    return pd.DataFrame(cols, index=df.index)


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
