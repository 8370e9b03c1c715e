"""Monitoring steps over files: validate a new batch, score it with @champion (prediction log),
measure drift against the last features stage's training set (which, after a rejected retrain, is
not the champion's own training data), decide whether to retrain."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from accelops.config import Params
from accelops.data import io
from accelops.monitoring.drift import DriftDecision
from accelops.pipeline.files import need, read_model, write_model
from accelops.validation.batch_check import BatchReport

log = logging.getLogger("accelops.monitoring")


class NoChampion(BaseModel):
    """A monitored batch that was validated but not scored: there is no @champion to compare with (the
    gate has accepted no model yet). Retraining is the training flow's business, not drift's."""
    batch: str
    rows: int
    retrain: Literal[False] = False
    reason: str
    decided_at: str


def check_batch(params: Params, batch: Path) -> DriftDecision | NoChampion:
    """Validate, score and drift-check `batch`; writes the decision to last_decision.json. Without a
    champion the batch is still validated, and the outcome says there was nothing to compare."""
    import mlflow

    from accelops.monitoring.drift import detect_drift
    from accelops.registry import tracking
    from accelops.registry.promotion import CHAMPION, current_champion
    from accelops.validation import batch_check
    from accelops.validation.pii import protect

    lay = params.layout
    contract = params.dataset
    batch = Path(batch)
    df = io.conform(io.read_table(batch), contract, batch)
    checked = batch_check.check(df, params, str(batch), lay.quarantine_dir, docs_dir=lay.batch_data_docs)
    batch_check.write(checked, lay.batch_validation_report(batch))
    df = protect(checked.enforce(), contract.pii, params.pii, lay.pii_key_file, contract.text)

    client = tracking.connect(params)
    champion = current_champion(client, params.register_.model_name)
    if champion is None:
        outcome = NoChampion(batch=str(batch), rows=len(df), decided_at=pd.Timestamp.now(tz="UTC").isoformat(),
                             reason=f"no champion: nothing to compare (model {params.register_.model_name!r} has no "
                                    "@champion; the promotion gate has accepted no version yet)")
        write_model(outcome, lay.drift_decision_file)
        log.info("%s: %s", batch.name, outcome.reason)
        return outcome
    model = mlflow.pyfunc.load_model(f"models:/{params.register_.model_name}@{CHAMPION}")
    scores = np.asarray(model.predict(model_inputs(params, df)))
    prediction_log = df[[contract.entity_id, contract.timestamp]].assign(prediction=scores,
                                                                         model_version=champion.version)
    io.write_parquet(prediction_log, lay.prediction_log(batch))

    reference_path, reference_name = _champion_training_set(params, champion)
    drift = detect_drift(pd.read_parquet(reference_path), df, contract, params.monitor, lay.drift_report(batch))
    decision = DriftDecision(**drift.model_dump(), batch=str(batch), rows=len(df),
                             champion_version=str(champion.version), reference=reference_name, mean_prediction=float(scores.mean()),
                             decided_at=pd.Timestamp.now(tz="UTC").isoformat())
    write_model(decision, lay.drift_decision_file)
    with open(lay.drift_decisions_log, "a") as f:
        f.write(decision.model_dump_json(include={"batch", "drift_share", "retrain", "reason", "decided_at"}) + "\n")
    log.info("drift on %s: %s -> %s", batch.name, drift.reason, "RETRAIN" if drift.retrain else "no retraining")
    return decision


def _champion_training_set(params: Params, champion) -> tuple[Path, str]:
    """(file, description) of the drift reference: the champion's own training set, found by the content
    hash recorded on its version; the last features stage's training set only for a champion registered
    before training sets were kept (said so in the decision)."""
    sha = champion.tags.get("prov.training_set_sha256")
    path = params.layout.training_set_of(sha) if sha else None
    if path is not None and path.exists():
        return path, f"training set of v{champion.version} (sha256 {sha[:12]})"
    log.warning("v%s's training set is not kept: drift is measured against the last features run", champion.version)
    return need(params.layout.training_set, "features"), (f"last features run (v{champion.version}'s own training "
                                                          "set is not kept)")


def model_inputs(params: Params, df: pd.DataFrame) -> pd.DataFrame:
    """The champion's inputs for a batch: its contract features plus the windowed aggregates,
    computed over the feature history (the last features stage's table) and the batch itself."""
    from accelops.features.windows import for_new_rows

    contract = params.dataset
    if params.features.windows is None:
        return df[contract.feature_columns]
    history = pd.read_parquet(need(params.layout.features_table, "features"),
                              columns=[contract.entity_id, contract.timestamp, *params.features.windows.sources()])
    rows = for_new_rows(history, df, contract.entity_id, contract.timestamp, params.features.windows)
    return rows[params.model_contract.feature_columns]


class RetrainingData(BaseModel):
    """The data a drift-triggered retraining runs on: the last training input plus the batch."""
    path: str
    previous: str
    previous_rows: int
    batch_rows: int
    rows: int
    replaced: int           # history rows whose (entity, timestamp) key the batch carried again: the batch's win


def retraining_data(params: Params, batch: Path) -> RetrainingData:
    """The last training input plus the new batch; a batch row with the key of a history row replaces
    it (a re-delivered, corrected event), and how many did is reported, never silent."""
    lay = params.layout
    previous = Path(read_model(BatchReport, lay.validation_report, "validate").source)
    contract = params.dataset
    old = io.conform(io.read_table(previous), contract, previous)
    new = io.conform(io.read_table(batch), contract, batch)
    keys = [contract.entity_id, contract.timestamp]
    combined = pd.concat([old, new], ignore_index=True).drop_duplicates(keys, keep="last")
    replaced = len(old) + len(new) - len(combined)
    if replaced:
        log.warning("%s: %d row(s) carry the key of a row in %s and replace it", batch, replaced, previous)
    out = io.write_parquet(combined.sort_values(contract.timestamp, kind="stable"),
                           lay.retraining_data(time.strftime('%Y%m%d-%H%M%S')))
    return RetrainingData(path=str(out), previous=str(previous), previous_rows=len(old), batch_rows=len(new),
                          rows=len(combined), replaced=replaced)
