"""Model performance per monitoring window: estimated before labels, realised once they arrive.

Estimated: confidence-based performance estimation (NannyML's CBPE) from the calibrated
probabilities alone. With calibrated p, a row is a positive with probability p, so the expected
true and false positives above each score are cumulative sums of p and 1 - p; their ratios give
the expected ROC curve and its area. Valid while calibration holds, i.e. under covariate shift; a
concept shift (P(y|x) changes) is invisible to it, which is why realised performance from the
delayed labels is measured beside it and decides on decay.

Realised: the prediction log (entity, timestamp, model version, variant, score, slice columns)
joined with the labels that landed later in monitor.labels, by (entity, timestamp)."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import Contract
from accelops.errors import DataFormatError

log = logging.getLogger(__name__)


def cbpe_auc(p: np.ndarray) -> float:
    """The ROC AUC expected when each row is positive with its calibrated probability `p` (ties count
    half, as in the Mann-Whitney AUC)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    if len(p) == 0:
        return float("nan")
    scores, inverse = np.unique(-p, return_inverse=True)          # distinct scores, highest first
    pos = np.bincount(inverse, weights=p, minlength=len(scores))  # expected positives at each score
    neg = np.bincount(inverse, weights=1.0 - p, minlength=len(scores))
    own = float((p * (1.0 - p)).sum())                             # a row paired with itself: not a pair
    pairs = pos.sum() * neg.sum() - own
    if pairs <= 0:
        return float("nan")
    # each expected negative at a score is beaten by the positives above it and tied with those at it
    above = np.cumsum(pos) - pos
    return float((((above + 0.5 * pos) * neg).sum() - 0.5 * own) / pairs)


class SlicePerformance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slice: str
    value: str
    labelled: int
    realised_auc: float | None


class WindowPerformance(BaseModel):
    """One monitoring window (a scored file): its estimate, and what the labels say once they landed."""
    model_config = ConfigDict(extra="forbid")
    window: str                        # the prediction log's name (the landed file's stem)
    model_version: str
    rows: int
    mean_prediction: float
    estimated_auc: float
    labelled: int = 0
    realised_auc: float | None = None
    positive_rate: float | None = None
    brier: float | None = None
    calibration_gap: float | None = None   # mean prediction - positive rate, over the labelled rows
    estimate_error: float | None = None    # estimated - realised AUC
    slices: list[SlicePerformance] = []


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from accelops.evaluation.metrics import fast_auc

    return float(fast_auc(y, p)) if 0 < y.sum() < len(y) else None


def window_performance(name: str, scored: pd.DataFrame, labels: pd.DataFrame | None, contract: Contract,
                       min_labelled: int, slices: list[str] | None = None) -> WindowPerformance:
    """Estimated AUC of a prediction-log frame, and realised metrics over the rows `labels` (key, time,
    label) covers, once at least `min_labelled` rows are labelled (per slice value as well)."""
    p = scored["prediction"].to_numpy(np.float64)
    out = WindowPerformance(window=name, model_version=str(scored["model_version"].iloc[0]) if len(scored) else "",
                            rows=len(scored), mean_prediction=float(p.mean()) if len(p) else float("nan"),
                            estimated_auc=cbpe_auc(p))
    if labels is None or labels.empty or scored.empty:
        return out
    keys = [contract.entity_id, contract.timestamp]
    joined = scored.merge(labels[[*keys, contract.label]], on=keys, how="inner")
    out.labelled = len(joined)
    if len(joined) < min_labelled:
        return out
    y, q = joined[contract.label].to_numpy(np.int64), joined["prediction"].to_numpy(np.float64)
    out.realised_auc = _auc(y, q)
    out.positive_rate = float(y.mean())
    out.brier = float(np.mean((q - y) ** 2))
    out.calibration_gap = float(q.mean() - y.mean())
    if out.realised_auc is not None:
        # the estimate for the same rows the labels cover, so the error is not a sampling artefact
        out.estimate_error = cbpe_auc(q) - out.realised_auc
    for col in slices or []:
        if col not in joined.columns:
            continue
        for value, part in joined.groupby(col, observed=True, sort=True):
            if len(part) >= min_labelled:
                out.slices.append(SlicePerformance(slice=col, value=str(value), labelled=len(part),
                                                   realised_auc=_auc(part[contract.label].to_numpy(np.int64),
                                                                     part["prediction"].to_numpy(np.float64))))
    return out


def _files(where: Path) -> list[Path]:
    if where.is_dir():
        return sorted(p for p in where.iterdir() if p.suffix in (".parquet", ".csv") and p.is_file())
    return sorted(Path(p) for p in glob.glob(str(where)) if Path(p).suffix in (".parquet", ".csv"))


def read_labels(where: Path, contract: Contract) -> pd.DataFrame:
    """Every delayed-label file in `where` (a folder or glob): entity id, timestamp and label, one row
    per key (a later file's label for a key wins: a correction). Empty when nothing landed. A file
    that breaks a rule raises DataFormatError naming it, the column and the rule: the three columns
    present (a CSV read as one column: a wrong delimiter), ids integers and never null, timestamps
    parseable and never null, labels never null and 0 or 1 (after dataset.positive_label), and one
    label per key within a file (two different labels for a key in one file: which one is true cannot
    be told; the same label repeated is kept once)."""
    from accelops.data.io import read_table

    keys = [contract.entity_id, contract.timestamp]
    frames = []
    for path in _files(where):
        frames.append(_label_file(path, read_table(path), contract))
    if not frames:
        return pd.DataFrame(columns=[*keys, contract.label])
    return pd.concat(frames, ignore_index=True).drop_duplicates(keys, keep="last").reset_index(drop=True)


def _label_file(path: Path, df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """One label file's (id, timestamp, label) rows, checked (read_labels' rules)."""
    from accelops.data.io import binary_label

    eid, ts, label = contract.entity_id, contract.timestamp, contract.label
    needed = f"needs {eid}, {ts}, {label}"
    missing = [c for c in (eid, ts, label) if c not in df.columns]
    if missing:
        if len(df.columns) == 1 and any(sep in str(df.columns[0]) for sep in ";|\t"):
            raise DataFormatError(f"{path}: only one column was read (wrong delimiter? a label file's CSV must be "
                                  f"comma-separated; {needed})")
        raise DataFormatError(f"{path}: label file without column(s) {missing} ({needed})")
    df = df[[eid, ts, label]].copy()
    if n := int(df[eid].isna().sum()):
        raise DataFormatError(f"{path}: column {eid}: {n} null id(s) (every label needs its entity id)")
    if not pd.api.types.is_integer_dtype(df[eid]):
        ids = pd.Series(np.nan, index=df.index) if pd.api.types.is_bool_dtype(df[eid]) else \
            pd.to_numeric(df[eid], errors="coerce")
        bad = ids.isna() | (ids % 1 != 0)
        if bad.any():
            raise DataFormatError(f"{path}: column {eid}: {int(bad.sum())} value(s) not integer ids, e.g. "
                                  f"{df.loc[bad, eid].head(3).tolist()}")
        df[eid] = ids.astype("int64")
    if n := int(df[label].isna().sum()):
        raise DataFormatError(f"{path}: column {label}: {n} null label(s) (a label file holds known labels only)")
    df[label] = binary_label(df[label], contract, path)
    bad = ~df[label].isin([0, 1])
    if bad.any():
        raise DataFormatError(f"{path}: column {label}: {int(bad.sum())} label(s) not 0 or 1")
    try:
        df[ts] = pd.to_datetime(df[ts], utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataFormatError(f"{path}: column {ts}: not a timestamp: {str(exc).splitlines()[0]}") from None
    if n := int(df[ts].isna().sum()):
        raise DataFormatError(f"{path}: column {ts}: {n} null timestamp(s) (a label's key is id and timestamp)")
    df = df.drop_duplicates()
    conflicts = df[df.duplicated([eid, ts], keep=False)]
    if len(conflicts):
        first = conflicts.iloc[0]
        raise DataFormatError(f"{path}: columns {eid},{ts}: {conflicts[[eid, ts]].drop_duplicates().shape[0]} key(s) "
                              f"with different labels in one file, e.g. ({first[eid]}, {first[ts]}) (one label per key "
                              "in a file; a correction goes in a later file)")
    return df


def decay(windows: list[WindowPerformance], champion_version: str, reference_auc: float | None,
          max_drop: float, recent: int = 3) -> str | None:
    """Why the champion's realised AUC decayed, or None: over its last `recent` labelled windows (in
    the order given), the labelled-row-weighted mean realised AUC is below its own test AUC by more
    than `max_drop`."""
    if reference_auc is None:
        return None
    own = [w for w in windows if w.model_version == champion_version and w.realised_auc is not None][-recent:]
    if not own:
        return None
    # weighted by labelled rows: one small window does not decide alone
    realised = sum(w.realised_auc * w.labelled for w in own) / sum(w.labelled for w in own)
    if realised < reference_auc - max_drop:
        return (f"performance decay: realised AUC {realised:.4f} over {len(own)} labelled window(s) of "
                f"v{champion_version} ({sum(w.labelled for w in own)} rows) is below its test AUC "
                f"{reference_auc:.4f} - {max_drop}")
    return None
