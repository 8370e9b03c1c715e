"""Monitoring steps over files: take the files that landed (each once), validate a new batch, score
it with @champion (prediction log), measure drift against the champion's own training set, and let
the retraining policy (k of n windows, severe bound, cooldown, daily budget) decide."""

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


def check_batch(params: Params, batch: Path, training_active: bool = False) -> DriftDecision | NoChampion:
    """Validate, score and drift-check `batch`, then apply the retraining policy to the recorded windows
    (`training_active`: a training run is scheduled or running); writes the decision to
    last_decision.json. Without a champion the batch is still validated, and the outcome says there
    was nothing to compare."""
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
    policy = _apply_policy(params, batch, drift.drift_share, drift.retrain, training_active)
    decision = DriftDecision(**drift.model_dump(exclude={"retrain", "reason"}), retrain=policy.retrain,
                             reason=f"{policy.reason} [this window: {drift.reason}]", window_drifted=drift.retrain,
                             policy=policy.model_dump(mode="json"), batch=str(batch), rows=len(df),
                             champion_version=str(champion.version), reference=reference_name,
                             mean_prediction=float(scores.mean()), decided_at=pd.Timestamp.now(tz="UTC").isoformat())
    write_model(decision, lay.drift_decision_file)
    _log_window(params, decision, batch)
    with open(lay.drift_decisions_log, "a") as f:
        f.write(decision.model_dump_json(include={"batch", "drift_share", "retrain", "reason", "decided_at"}) + "\n")
    log.info("drift on %s: %s -> %s", batch.name, decision.reason, "RETRAIN" if decision.retrain else "no retraining")
    return decision


def _log_window(params: Params, decision: DriftDecision, batch: Path) -> None:
    """The window on the MLflow monitoring timeline: drift share, the policy's verdict, the mean
    prediction and each column's effect size, one point per window."""
    from accelops.registry import tracking

    metrics = {"drift_share": decision.drift_share, "window_drifted": float(decision.window_drifted),
               "retrain": float(decision.retrain), "mean_prediction": decision.mean_prediction,
               "rows": float(decision.rows), "drifted_columns": float(len(decision.drifted_columns))}
    metrics |= {f"effect.{c}": v for c, v in decision.scores.items()}
    tracking.log_monitoring_window(params, metrics, decision.model_dump(mode="json"), batch.stem)


def open_ledger(params: Params):
    """The intake ledger and drift windows: monitor.ledger_url, else SQLite in the workdir."""
    from accelops.monitoring.intake import Ledger

    url = params.monitor.ledger_url
    return Ledger(url) if url else Ledger.for_path(params.layout.intake_ledger)


def _apply_policy(params: Params, batch: Path, share: float, drifted: bool, training_active: bool):
    """Record this window (keyed by the file's content) and decide by the policy over all windows."""
    from datetime import datetime, timezone

    from accelops.hashing import file_sha256
    from accelops.monitoring.policy import Window, decide

    ledger = open_ledger(params)
    now = datetime.now(timezone.utc)
    window = Window(key=file_sha256(batch), batch=str(batch), decided_at=now, drift_share=share, drifted=drifted)
    decision = decide(ledger.windows(), window, now, training_active, params.monitor.policy)
    ledger.record_window(window.model_copy(update={"triggered": decision.retrain}))
    return decision


class Landed(BaseModel):
    """What became of one landed file: done (its outcome), or quarantined (why, and where it was copied)."""
    file: str
    sha256: str
    state: Literal["done", "quarantined"]
    outcome: str
    attempts: int
    quarantined_to: str | None = None


def process_landed(params: Params, handle, owner: str | None = None) -> list[Landed]:
    """Every file that landed and was not processed before, oldest first, each exactly once: `handle(path)`
    does the work (the monitoring flow's checks and any retraining) and returns an object with a
    `reason`. A file the pipeline rejects (bad format, failed validation, PII, bad labels) is
    quarantined with its reason and report; any other error gives the claim back and is raised (the
    next run takes the file again, up to monitor.max_attempts claims)."""
    from datetime import timedelta

    from accelops import errors
    from accelops.monitoring.intake import owner_id, quarantine_file

    m, lay = params.monitor, params.layout
    ledger = open_ledger(params)
    owner = owner or owner_id()
    new = ledger.register(str(params.landing), m.settle_seconds)
    log.info("landing %s: %d new file(s)", params.landing, len(new))
    before = {f.sha256: f.state for f in ledger.all()}
    done: list[Landed] = []
    while (f := ledger.claim_next(owner, timedelta(minutes=m.lease_minutes), m.max_attempts)) is not None:
        path = Path(f.path)
        try:
            outcome = handle(path)
        except (errors.DataFormatError, errors.DataValidationError, errors.PiiDetectedError,
                errors.LabelQualityError) as exc:        # the pipeline rejected the data: never retried
            where = quarantine_file(f, str(exc), lay.quarantined_files, lay.batch_validation_report(path))
            ledger.finish(f.sha256, owner, "quarantined", f"{type(exc).__name__}: {exc}")
            log.warning("%s quarantined to %s: %s", path.name, where, exc)
            done.append(Landed(file=str(path), sha256=f.sha256, state="quarantined", outcome=str(exc)[:2000],
                               attempts=f.attempts, quarantined_to=str(where)))
            continue
        except BaseException as exc:
            ledger.release(f.sha256, owner, repr(exc))
            raise
        reason = str(getattr(outcome, "reason", outcome))
        ledger.finish(f.sha256, owner, "done", reason)
        done.append(Landed(file=str(path), sha256=f.sha256, state="done", outcome=reason[:2000], attempts=f.attempts))
    for f in ledger.all():          # claimed too often without finishing: quarantined by claim_next
        if f.state == "quarantined" and before.get(f.sha256) != "quarantined" and \
                f.sha256 not in {d.sha256 for d in done}:
            where = quarantine_file(f, f.outcome or "", lay.quarantined_files)
            log.warning("%s quarantined to %s: %s", f.path, where, f.outcome)
            done.append(Landed(file=f.path, sha256=f.sha256, state="quarantined", outcome=f.outcome or "",
                               attempts=f.attempts, quarantined_to=str(where)))
    return done


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
    """The data a drift-triggered retraining runs on: the last training input plus the batches of the
    windows that triggered it."""
    path: str
    previous: str
    previous_rows: int
    batches: list[str] = []
    batch_rows: int
    rows: int
    replaced: int           # history rows whose (entity, timestamp) key the batch carried again: the batch's win


def retraining_data(params: Params, batches: list[Path] | Path) -> RetrainingData:
    """The last training input plus the new batches (in order); a batch row with the key of an earlier
    row replaces it (a re-delivered, corrected event), and how many did is reported, never silent."""
    lay = params.layout
    batches = [Path(b) for b in ([batches] if isinstance(batches, (str, Path)) else batches)]
    previous = Path(read_model(BatchReport, lay.validation_report, "validate").source)
    contract = params.dataset
    old = io.conform(io.read_table(previous), contract, previous)
    new = pd.concat([io.conform(io.read_table(b), contract, b) for b in batches], ignore_index=True)
    batch = ", ".join(b.name for b in batches)
    keys = [contract.entity_id, contract.timestamp]
    combined = pd.concat([old, new], ignore_index=True).drop_duplicates(keys, keep="last")
    replaced = len(old) + len(new) - len(combined)
    if replaced:
        log.warning("%s: %d row(s) carry the key of a row in %s and replace it", batch, replaced, previous)
    out = io.write_parquet(combined.sort_values(contract.timestamp, kind="stable"),
                           lay.retraining_data(time.strftime('%Y%m%d-%H%M%S')))
    return RetrainingData(path=str(out), previous=str(previous), previous_rows=len(old),
                          batches=[str(b) for b in batches], batch_rows=len(new),
                          rows=len(combined), replaced=replaced)
