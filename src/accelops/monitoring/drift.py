"""Data drift between a reference sample and a new batch with Evidently 0.7, and the decision.

Per column: normalised Wasserstein distance (numeric) or Jensen-Shannon distance (categorical),
drifted when the distance is at least `column_threshold`. Retrain when the share of drifted
columns exceeds `drift_share_threshold`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import Contract, MonitorParams


class DriftResult(BaseModel):
    """Per-column drift scores against the reference and the retraining decision they imply."""
    model_config = ConfigDict(extra="forbid")
    drift_share: float
    drifted_columns: list[str]
    scores: dict[str, float]
    threshold: float
    retrain: bool
    reason: str
    reference_rows: int
    current_rows: int
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


def _sample(df: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    return df.sample(n=n, random_state=seed) if len(df) > n else df


def detect_drift(reference: pd.DataFrame, current: pd.DataFrame, contract: Contract,
                 params: MonitorParams, html_path: Path | None = None) -> DriftResult:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric, categorical = list(contract.numeric_features), list(contract.categorical_features)
    cols = numeric + categorical
    ref = _sample(reference[cols], params.reference_rows)
    cur = _sample(current[cols], params.reference_rows)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    preset = DataDriftPreset(num_method="wasserstein", cat_method="jensenshannon",
                             threshold=params.column_threshold)
    snapshot = Report([preset]).run(reference_data=Dataset.from_pandas(ref, data_definition=definition),
                                    current_data=Dataset.from_pandas(cur, data_definition=definition))
    scores: dict[str, float] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift") and config.get("column") in cols:
            scores[config["column"]] = float(metric["value"])
    drifted = sorted(c for c, s in scores.items() if s >= params.column_threshold)
    share = len(drifted) / len(cols)
    retrain = share > params.drift_share_threshold
    reason = (f"{len(drifted)}/{len(cols)} columns drifted (share {share:.2f} "
              f"{'>' if retrain else '<='} {params.drift_share_threshold}): {', '.join(drifted) or 'none'}")
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html_path))
    return DriftResult(drift_share=share, drifted_columns=drifted, scores=scores,
                       threshold=params.drift_share_threshold, retrain=retrain, reason=reason,
                       reference_rows=len(ref), current_rows=len(cur), html=str(html_path) if html_path else None)
