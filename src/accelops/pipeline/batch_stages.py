"""Monitoring steps over files: take the files that landed (each once), validate a new batch, score
it with @champion (prediction log), measure drift against the champion's own training set, and let
the retraining policy (k of n windows, severe bound, cooldown, daily budget) decide."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from accelops.config import Params
from accelops.data import io
from accelops.monitoring.drift import DriftDecision
from accelops.pipeline.files import need, write_json, write_model

log = logging.getLogger("accelops.monitoring")


class NoChampion(BaseModel):
    """A monitored batch that was validated but not scored: there is no @champion to compare with (the
    gate has accepted no model yet). Retraining is the training flow's business, not drift's."""
    batch: str
    rows: int
    retrain: Literal[False] = False
    reason: str
    decided_at: str


def check_batch(params: Params, batch: Path, training_active: bool = False,
                now: datetime | None = None) -> DriftDecision | NoChampion:
    """Validate, score and drift-check `batch` (labelled or not: labels may land later in
    monitor.labels), measure every window's performance (estimated, and realised where labels
    landed), then apply the retraining policy (`training_active`: a training run is scheduled or
    running; `now`: the decision time, for replays and simulations); writes the decision to
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
    now = now or datetime.now(timezone.utc)
    df = io.conform(io.read_table(batch), contract, batch, require_label=False)
    checked = batch_check.check(df, params, str(batch), lay.quarantine_dir, docs_dir=lay.batch_data_docs)
    batch_check.write(checked, lay.batch_validation_report(batch))
    df = protect(checked.enforce(), contract.pii, params.pii, lay.pii_key_file, contract.text)

    client = tracking.connect(params)
    champion = current_champion(client, params.register_.model_name)
    if champion is None:
        outcome = NoChampion(batch=str(batch), rows=len(df), decided_at=now.isoformat(),
                             reason=f"no champion: nothing to compare (model {params.register_.model_name!r} has no "
                                    "@champion; the promotion gate has accepted no version yet)")
        write_model(outcome, lay.drift_decision_file)
        log.info("%s: %s", batch.name, outcome.reason)
        return outcome
    model = mlflow.pyfunc.load_model(f"models:/{params.register_.model_name}@{CHAMPION}")
    inputs = model_inputs(params, df)
    scores = np.asarray(model.predict(inputs))
    _write_prediction_log(params, df, scores, str(champion.version), _variant_of(model), batch)

    reference_path, reference_name = _champion_training_set(params, champion)
    reference = pd.read_parquet(reference_path)
    drift = detect_drift(reference, df, contract, params.monitor, lay.drift_report(batch))
    output = _output_drift(params, model, reference, inputs, scores, df)
    windows, decay = _performance(params, champion, batch)
    policy = _apply_policy(params, batch, drift.drift_share, drift.retrain, training_active, now, decay, windows,
                           str(champion.version))
    decision = DriftDecision(**drift.model_dump(exclude={"retrain", "reason"}), retrain=policy.retrain,
                             reason=f"{policy.reason} [this window: {drift.reason}{_output_reason(output)}]",
                             window_drifted=drift.retrain,
                             policy=policy.model_dump(mode="json"), batch=str(batch), rows=len(df),
                             champion_version=str(champion.version), reference=reference_name,
                             mean_prediction=float(scores.mean()), decided_at=now.isoformat(),
                             performance=windows.get(batch.stem), **output)
    write_model(decision, lay.drift_decision_file)
    _log_window(params, decision, batch, windows)
    with open(lay.drift_decisions_log, "a") as f:
        f.write(decision.model_dump_json(include={"batch", "drift_share", "retrain", "reason", "decided_at"}) + "\n")
    log.info("drift on %s: %s -> %s", batch.name, decision.reason, "RETRAIN" if decision.retrain else "no retraining")
    return decision


def _variant_of(model) -> str:
    """The serving variant the champion's pyfunc scored with (its Scorer's choice)."""
    try:
        return model.unwrap_python_model().variant
    except Exception:          # a pyfunc that is not accelops's own: say so rather than guess
        return "unknown"


def _write_prediction_log(params: Params, df: pd.DataFrame, scores: np.ndarray, version: str, variant: str,
                          batch: Path) -> Path:
    """The window's prediction log (one file per landed file, written atomically): entity, timestamp,
    model version, variant, score, the slice columns (for per-slice realised metrics) and the label
    when the batch carried one. No PII: those columns are never copied."""
    c = params.dataset
    keep = [c.entity_id, c.timestamp, *[s for s in c.slices if s not in (c.entity_id, c.timestamp)]]
    keep += [c.label] if c.label in df.columns else []
    frame = df[keep].reset_index(drop=True).assign(model_version=version, variant=variant, prediction=scores)
    return io.write_parquet(frame, params.layout.prediction_log(batch))


def _output_drift(params: Params, model, reference: pd.DataFrame, inputs: pd.DataFrame, scores: np.ndarray,
                  df: pd.DataFrame) -> dict:
    """Drift of the champion's output (its scores on the reference vs on the batch), of the label when
    the batch carries one, and each input column's impact on the mean prediction."""
    from accelops.monitoring.attribution import prediction_impact
    from accelops.monitoring.stats import ColumnDrift, categorical_drift, numeric_drift

    m, c = params.monitor, params.dataset
    columns = [col for col in inputs.columns if col in reference.columns]
    ref_inputs = reference[columns]
    ref_inputs = ref_inputs.sample(n=m.model_rows, random_state=0) if len(ref_inputs) > m.model_rows else ref_inputs
    ref_scores = np.asarray(model.predict(ref_inputs))
    effect, p = numeric_drift(ref_scores, scores)
    level = m.alpha / (len(c.feature_columns) + 2)     # the same family as the columns, plus score and label
    out = {"prediction": ColumnDrift(column="prediction", kind="numeric", effect=effect, p_value=p,
                                     drifted=effect >= m.column_threshold and p < level,
                                     severe=effect >= m.severe_column_threshold)}
    if c.label in df.columns and c.label in reference.columns:
        effect, p = categorical_drift(reference[c.label].astype(str), df[c.label].astype(str))
        out["label"] = ColumnDrift(column=c.label, kind="categorical", effect=effect, p_value=p,
                                   drifted=effect >= m.column_threshold and p < level,
                                   severe=effect >= m.severe_share_threshold)
    out["attribution"] = prediction_impact(lambda frame: np.asarray(model.predict(frame)), ref_inputs,
                                           inputs[columns], columns, rows=m.model_rows,
                                           reference_scores=ref_scores, current_scores=scores)
    return out


def _output_reason(output: dict) -> str:
    """The output's drift and the inputs that moved the mean prediction most, for the decision's reason."""
    a, pred = output["attribution"], output["prediction"]
    top = ", ".join(f"{i.column} {i.mean_prediction_change:+.3f}" for i in a.impacts[:3])
    return (f"; mean prediction {a.current_mean_prediction:.3f} vs {a.reference_mean_prediction:.3f} on the "
            f"reference (score drift {pred.effect:.2f} sd{', drifted' if pred.drifted else ''}); largest "
            f"impacts: {top}")


def _performance(params: Params, champion, batch: Path) -> tuple[dict, str | None]:
    """Every window's performance (windows.json beside the prediction logs): estimated from the scores,
    realised where labels landed (monitor.labels, or the batch's own label column); and why the
    champion's realised AUC decayed, if it did."""
    from accelops.monitoring.performance import decay, read_labels, window_performance

    lay, c = params.layout, params.dataset
    landed = read_labels(params.labels, c)
    logs = sorted(lay.prediction_log(batch).parent.glob("*.parquet"), key=lambda f: f.stat().st_mtime)
    windows = {}
    for path in logs:
        scored = pd.read_parquet(path)
        labels = landed
        if c.label in scored.columns:        # labels that came with the batch
            own = scored.loc[scored[c.label].notna(), [c.entity_id, c.timestamp, c.label]]
            labels = pd.concat([landed, own], ignore_index=True).drop_duplicates([c.entity_id, c.timestamp],
                                                                                 keep="first")
        windows[path.stem] = window_performance(path.stem, scored.drop(columns=[c.label], errors="ignore"), labels,
                                                c, params.monitor.min_labelled_rows, list(c.slices))
    auc = champion.tags.get("gate.challenger_auc")
    why = decay(list(windows.values()), str(champion.version), float(auc) if auc else None,
                params.monitor.policy.max_auc_drop, params.monitor.policy.n)
    write_json({k: v.model_dump(mode="json") for k, v in windows.items()}, lay.window_performance)
    return windows, why


def _log_window(params: Params, decision: DriftDecision, batch: Path, windows: dict) -> None:
    """The window on the MLflow monitoring timeline: drift share, the policy's verdict, the mean
    prediction, each column's effect size, the output's drift, the estimated AUC and the realised AUC
    of the latest labelled window, one point per window."""
    from accelops.registry import tracking

    metrics = {"drift_share": decision.drift_share, "window_drifted": float(decision.window_drifted),
               "retrain": float(decision.retrain), "mean_prediction": decision.mean_prediction,
               "rows": float(decision.rows), "drifted_columns": float(len(decision.drifted_columns))}
    metrics |= {f"effect.{c}": v for c, v in decision.scores.items()}
    if decision.prediction is not None:
        metrics["effect.prediction"] = decision.prediction.effect
    if decision.label is not None:
        metrics["effect.label"] = decision.label.effect
    if decision.performance is not None:
        metrics["estimated_auc"] = decision.performance.estimated_auc
    labelled = [w for w in windows.values() if w.realised_auc is not None]
    if labelled:
        metrics["realised_auc_latest"] = labelled[-1].realised_auc
        if labelled[-1].estimate_error is not None:
            metrics["estimate_error_latest"] = labelled[-1].estimate_error
    tracking.log_monitoring_window(params, metrics, decision.model_dump(mode="json"), batch.stem)


def open_ledger(params: Params):
    """The intake ledger and drift windows: monitor.ledger_url, else SQLite in the workdir."""
    from accelops.monitoring.intake import Ledger

    url = params.monitor.ledger_url
    return Ledger(url) if url else Ledger.for_path(params.layout.intake_ledger)


def _apply_policy(params: Params, batch: Path, share: float, drifted: bool, training_active: bool,
                  now: datetime, decay: str | None = None, windows: dict | None = None, champion: str | None = None):
    """Record this window (keyed by the file's content) and decide by the policy over all windows,
    with the labelled rows of the drifted windows `champion` scored (`windows`: their performance)."""
    from accelops.hashing import file_sha256
    from accelops.monitoring.policy import Window, decide

    ledger = open_ledger(params)
    history = ledger.windows()
    window = Window(key=file_sha256(batch), batch=str(batch), decided_at=now, drift_share=share, drifted=drifted,
                    champion=champion)
    if windows is not None:
        was_drifted = {Path(w.batch).stem: w.drifted for w in history if w.key != window.key} | {batch.stem: drifted}
        window.labelled = sum(w.labelled for stem, w in windows.items()
                              if w.model_version == champion and was_drifted.get(stem, False))
    decision = decide(history, window, now, training_active, params.monitor.policy, decay)
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
    """The data a monitoring-triggered retraining runs on: the history (paths.history) plus the labelled
    rows of every landed window so far."""
    path: str
    previous: str
    previous_rows: int
    batches: list[str] = []
    batch_rows: int                 # labelled batch rows added
    unlabelled: int = 0             # batch rows left out: no label in the file nor in monitor.labels yet
    rows: int
    replaced: int           # history rows whose (entity, timestamp) key the batch carried again: the batch's win
    new_after: str          # the last training input's latest event: later rows are new (the label check's scope)


def retraining_data(params: Params, batches: list[Path] | Path) -> RetrainingData:
    """The current history (accelops.pipeline.history) plus the batches (in order), each row with its label from the file
    or, for rows scored before their label was known, from the delayed labels in monitor.labels; rows
    still without a label are left out (counted), and a later retraining takes them once labelled. A
    batch row with the key of an earlier row replaces it (a re-delivered, corrected event), and how
    many did is reported, never silent."""
    from accelops.monitoring.performance import read_labels

    lay = params.layout
    batches = [Path(b) for b in ([batches] if isinstance(batches, (str, Path)) else batches)]
    from accelops.pipeline import history

    previous = need(history.current(params), "generate")
    contract = params.dataset
    keys = [contract.entity_id, contract.timestamp]
    old = io.conform(io.read_table(previous), contract, previous)
    new = pd.concat([io.conform(io.read_table(b), contract, b, require_label=False) for b in batches],
                    ignore_index=True)
    landed = read_labels(params.labels, contract)
    if contract.label not in new.columns:
        new[contract.label] = np.nan
    if len(landed):
        late = new[keys].merge(landed, on=keys, how="left")[contract.label].to_numpy()
        new[contract.label] = new[contract.label].where(new[contract.label].notna(), late)
    unlabelled = int(new[contract.label].isna().sum())
    new = new[new[contract.label].notna()].astype({contract.label: old[contract.label].dtype})
    batch = ", ".join(b.name for b in batches)
    if unlabelled:
        log.info("%s: %d row(s) have no label yet and are left out of the retraining data", batch, unlabelled)
    combined = pd.concat([old, new[old.columns]], ignore_index=True).drop_duplicates(keys, keep="last")
    replaced = len(old) + len(new) - len(combined)
    if replaced:
        log.warning("%s: %d row(s) carry the key of a row in %s and replace it", batch, replaced, previous)
    out = io.write_parquet(combined.sort_values(contract.timestamp, kind="stable"),
                           lay.retraining_data(time.strftime('%Y%m%d-%H%M%S')))
    return RetrainingData(path=str(out), previous=str(previous), previous_rows=len(old),
                          batches=[str(b) for b in batches], batch_rows=len(new), unlabelled=unlabelled,
                          rows=len(combined), replaced=replaced,
                          new_after=pd.DatetimeIndex(old[contract.timestamp]).max().isoformat())
