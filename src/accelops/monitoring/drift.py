"""Data drift between the reference (the champion's training set) and a new batch, and the window's
verdict.

Per column (accelops.monitoring.stats): drifted when its effect size reaches `column_threshold`
and its test's p-value is below alpha / columns. The window drifted when the share of drifted
columns exceeds `drift_share_threshold`, or one drifted column's effect reaches
`severe_column_threshold`. Evidently 0.7 writes the HTML report, the human view, on a sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import Contract, MonitorParams
from accelops.monitoring.attribution import Attribution
from accelops.monitoring.performance import WindowPerformance
from accelops.monitoring.stats import ColumnDrift, SliceDrift, column_drifts, slice_drifts


class DriftResult(BaseModel):
    """Per-column drift (effect size and p-value) against the reference, per-slice drift, and whether
    this window drifted (`retrain`: the window's own verdict; the retraining policy decides on it)."""
    model_config = ConfigDict(extra="forbid")
    drift_share: float
    drifted_columns: list[str]
    scores: dict[str, float]            # effect size per column
    threshold: float
    retrain: bool
    reason: str
    reference_rows: int
    current_rows: int
    columns: list[ColumnDrift] = []
    slices: list[SliceDrift] = []
    html: str | None = None


class DriftDecision(DriftResult):
    """reports/monitoring/last_decision.json: the drift result on one scored batch, and the retraining
    policy's decision on it (`retrain`, `reason`; `window_drifted` is this window's own verdict)."""
    batch: str
    window_drifted: bool = False
    policy: dict | None = None
    rows: int
    champion_version: str
    reference: str                     # what the batch was compared with (the champion's own training set)
    mean_prediction: float
    decided_at: str
    prediction: ColumnDrift | None = None      # the champion's scores: reference vs this batch
    label: ColumnDrift | None = None           # the label rate, when the batch carries labels
    attribution: Attribution | None = None     # each input's impact on the mean prediction
    performance: WindowPerformance | None = None   # this window's estimated (and realised, if labelled) AUC


def _sample(df: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    return df.sample(n=n, random_state=seed) if len(df) > n else df


def detect_drift(reference: pd.DataFrame, current: pd.DataFrame, contract: Contract,
                 params: MonitorParams, html_path: Path | None = None) -> DriftResult:
    """The window's drift by accelops.monitoring.stats (effect floor and Bonferroni-corrected tests,
    on up to `test_rows` rows a side), per slice, and Evidently's HTML report on a sample."""
    numeric, categorical = list(contract.numeric_features), list(contract.categorical_features)
    cols = numeric + categorical
    ref_all = _sample(reference[cols], params.test_rows)
    cur_all = _sample(current[cols], params.test_rows)
    tests = column_drifts(ref_all, cur_all, numeric, categorical, params.column_threshold, params.alpha,
                          params.severe_column_threshold, severe_share=params.severe_share_threshold)
    slices = slice_drifts(ref_all, cur_all, [c for c in contract.slices if c in cols], numeric, categorical,
                          params.column_threshold, params.alpha, params.severe_column_threshold,
                          params.slice_min_rows, params.severe_share_threshold)
    drifted = sorted(t.column for t in tests if t.drifted)
    severe = sorted(t.column for t in tests if t.severe)
    share = len(drifted) / len(cols)
    retrain = share > params.drift_share_threshold or bool(severe)
    level = params.alpha / len(cols)
    reason = (f"{len(drifted)}/{len(cols)} columns drifted (effect >= {params.column_threshold} and p < "
              f"{level:.2g}; share {share:.2f} {'>' if share > params.drift_share_threshold else '<='} "
              f"{params.drift_share_threshold}): {', '.join(drifted) or 'none'}")
    if severe:
        reason += (f"; severe (distance >= {params.severe_column_threshold} sd, or Jensen-Shannon / missing share "
                   f">= {params.severe_share_threshold}): {', '.join(severe)}")
    if slices and slices[0].drifted_columns:
        top = slices[0]
        reason += f"; most drifted slice {top.slice}={top.value} ({len(top.drifted_columns)} columns)"
    if html_path is not None:
        _evidently_html(_sample(ref_all, params.reference_rows), _sample(cur_all, params.reference_rows),
                        numeric, categorical, params.column_threshold, html_path)
    return DriftResult(drift_share=share, drifted_columns=drifted, scores={t.column: t.effect for t in tests},
                       threshold=params.drift_share_threshold, retrain=retrain, reason=reason,
                       reference_rows=len(ref_all), current_rows=len(cur_all), columns=tests, slices=slices,
                       html=str(html_path) if html_path else None)


def _evidently_html(ref: pd.DataFrame, cur: pd.DataFrame, numeric: list[str], categorical: list[str],
                    threshold: float, path: Path) -> None:
    """Evidently's drift report (the human view) on samples of both sides."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    preset = DataDriftPreset(num_method="wasserstein", cat_method="jensenshannon", threshold=threshold)
    snapshot = Report([preset]).run(reference_data=Dataset.from_pandas(ref, data_definition=definition),
                                    current_data=Dataset.from_pandas(cur, data_definition=definition))
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(path))
