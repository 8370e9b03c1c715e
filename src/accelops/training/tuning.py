"""Optuna search over the network's hyperparameters (train.tuning).

The study lives in an Optuna storage (a journal file in the workdir, or a database URL that workers on
other hosts reach), so a trial can run in another process: the driver asks a batch of trials and
draws every trial's values itself (one seeded TPE sampler, so parallel trials never repeat each
other's draws), a worker rebuilds the trial from the storage by its number, trains with the pruner
watching each epoch's validation AUC, and the driver tells the outcome. Trial 0 is the params as
written, so the search is compared with the defaults on the same split.
"""

from __future__ import annotations

import hashlib
import logging
import math
import tempfile
import time
from pathlib import Path

import pandas as pd

from accelops.config import Contract, TrainParams, TuningParams
from accelops.errors import TrainingError
from accelops.training.schema import TrialRecord

log = logging.getLogger(__name__)

# name: (kind, low, high | choices). Ranges widen to take in the value as written (trial 0).
SPACE: dict[str, tuple] = {
    "lr": ("log", 3e-4, 3e-2),
    "weight_decay": ("log", 1e-6, 1e-2),
    "dropout": ("float", 0.0, 0.4),
    "hidden": ("choice", ["32", "64-32", "128-64", "256-128", "128-64-32"]),
    "embedding_dim": ("int", 2, 16),
    "batch_size": ("choice", [256, 512, 1024, 2048]),
}
ABANDONED = "accelops.abandoned"   # user attr of a trial a killed search left running
STARTUP_TRIALS = 3          # the pruner judges no trial before this many finished ...
WARMUP_EPOCHS = 2           # ... nor any trial before its third epoch
_SEARCH_ONLY = {"tuning": {"trials", "parallel", "timeout_minutes", "storage", "pruning"},
                "threads": True, "distributed": True}


def encode(base: TrainParams, name: str):
    """`base`'s value of `name` as the study stores it (hidden widths as "64-32")."""
    value = getattr(base, name)
    return "-".join(str(w) for w in value) if name == "hidden" else value


def written(base: TrainParams) -> dict:
    """Trial 0: the searched parameters as written."""
    return {name: encode(base, name) for name in base.tuning.parameters}


def suggest(trial, base: TrainParams) -> dict:
    """Draw the searched parameters for `trial` (an optuna.Trial), ranges widened to the written values."""
    values = {}
    for name in base.tuning.parameters:
        kind, *spec = SPACE[name]
        own = encode(base, name)
        if kind == "choice":
            choices = list(spec[0]) + ([own] if own not in spec[0] else [])
            values[name] = trial.suggest_categorical(name, choices)
            continue
        low, high = min(spec[0], own), max(spec[1], own)
        if kind == "int":
            values[name] = trial.suggest_int(name, int(low), int(high), log=True)
        else:
            values[name] = trial.suggest_float(name, low, high, log=kind == "log")
    return values


def apply(base: TrainParams, values: dict) -> TrainParams:
    """`base` with a trial's values (hidden decoded back to a list of widths)."""
    update = dict(values)
    if "hidden" in update and isinstance(update["hidden"], str):
        update["hidden"] = [int(w) for w in update["hidden"].split("-")]
    return TrainParams.model_validate({**base.model_dump(), **update})


def study_name(dataset: str, training_sha256: str, base: TrainParams) -> str:
    """One study per training set and train params: raising `trials` continues it, a rerun after a
    failure keeps its finished trials, other data or other params start a new one."""
    spec = base.model_dump_json(exclude=_SEARCH_ONLY)
    return f"{dataset}-{hashlib.sha256((training_sha256 + spec).encode()).hexdigest()[:16]}"


def storage_for(cfg: TuningParams, journal: Path):
    """The Optuna storage: the database at cfg.storage, else a journal file (safe for processes on one host)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if cfg.storage:
        return optuna.storages.RDBStorage(cfg.storage)
    journal.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(journal)))


def describe_storage(cfg: TuningParams, journal: Path) -> str:
    """Where the study lives, for reports: the journal path, or the URL without its password."""
    if not cfg.storage:
        return str(journal)
    from sqlalchemy.engine import make_url

    return make_url(cfg.storage).render_as_string(hide_password=True)


def open_study(name: str, storage, base: TrainParams):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_EPOCHS)
              if base.tuning.pruning else optuna.pruners.NopPruner())
    sampler = optuna.samplers.TPESampler(seed=base.seed, n_startup_trials=max(STARTUP_TRIALS, base.tuning.trials // 4))
    return optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                               direction="maximize", load_if_exists=True)


def run_trial(study, number: int, train_df: pd.DataFrame, valid_df: pd.DataFrame, contract: Contract,
              base: TrainParams, threads: int) -> TrialRecord:
    """Train trial `number` of `study` (its values already drawn) and report every epoch's validation AUC
    to the pruner; the model itself is thrown away (the train stage refits the best values)."""
    import optuna

    from accelops.training.train import train_model

    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    values = study._storage.get_trial(trial_id).params
    trial = optuna.trial.Trial(study, trial_id)
    params = apply(base, values).model_copy(update={"threads": threads})
    seen: list[float] = []

    def report(epoch: int, record: dict) -> None:
        seen.append(record["valid_auc"])
        trial.report(record["valid_auc"], epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="accelops-trial-") as out:
        try:
            result = train_model(train_df, valid_df, contract, params, Path(out), on_epoch_end=report)
        except optuna.TrialPruned:
            return TrialRecord(number=number, state="PRUNED", valid_auc=_best(seen), epochs=len(seen),
                               seconds=round(time.perf_counter() - started, 2), values=values)
        except TrainingError as exc:        # values that cannot train (e.g. no valid AUC): the search goes on
            return TrialRecord(number=number, state="FAIL", epochs=len(seen), values=values, note=str(exc),
                               seconds=round(time.perf_counter() - started, 2))
    return TrialRecord(number=number, state="COMPLETE", valid_auc=result.best_valid_auc, epochs=result.epochs_run,
                       seconds=round(time.perf_counter() - started, 2), values=values)


def _best(values: list[float]) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else None


def tell(study, record: TrialRecord) -> None:
    """The driver records a worker's outcome (a pruned trial keeps its last reported value)."""
    from optuna.trial import TrialState

    if record.state == "COMPLETE":
        study.tell(record.number, record.valid_auc)
    else:
        study.tell(record.number, state=TrialState[record.state])


def counted(study) -> int:
    """Finished trials that count toward train.tuning.trials (an abandoned one is asked again, not counted)."""
    return sum(t.state.is_finished() and not t.user_attrs.get(ABANDONED) for t in study.get_trials(deepcopy=False))


def abandon_unfinished(study) -> int:
    """Trials a killed search left RUNNING are marked FAIL and their values asked again (the written
    params among them: the comparison with the defaults is never lost); returns how many."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in stale:
        study._storage.set_trial_user_attr(t._trial_id, ABANDONED, True)
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        study.enqueue_trial(t.params, skip_if_exists=False)
    return len(stale)
