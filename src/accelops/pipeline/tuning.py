"""The train stage's hyperparameter search (train.tuning): trials over the training set's own train and
validation split, asked in batches and run by `map_trials` (the flow passes its task runner's map;
alone, e.g. under DVC, they run one after another here). The result goes into reports/training.json
(TrainingSummary.tuning) and the flow's MLflow run."""

from __future__ import annotations

import logging
import time
from typing import Callable

from accelops.config import Params
from accelops.errors import TrainingError
from accelops.hashing import file_sha256
from accelops.pipeline.files import need
from accelops.runtime import PROGRESS, available_cores
from accelops.training import tuning
from accelops.training.schema import TrialRecord, TuningResult

log = logging.getLogger(__name__)
progress = logging.getLogger(PROGRESS)

MapTrials = Callable[[Params, str, list[int]], list[TrialRecord]]


def study_of(params: Params) -> str:
    lay = params.layout
    return tuning.study_name(params.dataset.name, file_sha256(need(lay.training_set, "features")), params.train)


def trial(params: Params, study: str, number: int) -> TrialRecord:
    """Run one asked trial (the unit a task runner executes, in this process or a worker's)."""
    from accelops.pipeline.stages import split_parts

    parts = split_parts(params)
    cfg = params.train.tuning
    threads = params.train.threads or max(1, available_cores() // concurrent_trials(params))
    handle = tuning.open_study(study, tuning.storage_for(cfg, params.layout.tuning_study), params.train)
    return tuning.run_trial(handle, number, parts["train"], parts["valid"], params.model_contract,
                            params.train, threads)


def concurrent_trials(params: Params) -> int:
    """Trials running at once on one host: the batch on a local Dask cluster (at most one per worker); one
    with the threads runner (it runs them one by one: see accelops_flows.tuning.task_runner)."""
    o = params.orchestration
    if o.task_runner == "threads":
        return 1
    return min(params.train.tuning.parallel, o.dask_workers if o.dask_address is None else params.train.tuning.parallel)


def _one_by_one(params: Params, study: str, numbers: list[int]) -> list[TrialRecord]:
    return [trial(params, study, n) for n in numbers]


def search(params: Params, map_trials: MapTrials | None = None) -> TuningResult | None:
    """The study for this training set and these train params, run up to train.tuning.trials finished
    trials (None when trials is 0); trials an earlier attempt finished are kept, not rerun."""
    cfg = params.train.tuning
    if cfg.trials == 0:
        return None
    from accelops.registry import tracking

    lay = params.layout
    name = study_of(params)
    study = tuning.open_study(name, tuning.storage_for(cfg, lay.tuning_study), params.train)
    if dropped := tuning.abandon_unfinished(study):
        log.warning("study %s: %d trial(s) of an interrupted search marked failed", name, dropped)
    if not study.trials:
        study.enqueue_trial(tuning.written(params.train))      # trial 0: the params as written
    started = time.perf_counter()
    run = map_trials or _one_by_one
    while (left := cfg.trials - tuning.counted(study)) > 0:
        if cfg.timeout_minutes and time.perf_counter() - started > cfg.timeout_minutes * 60:
            log.warning("tuning stopped by train.tuning.timeout_minutes after %d trials", tuning.counted(study))
            break
        asked = [study.ask() for _ in range(min(cfg.parallel, left))]
        for t in asked:
            tuning.suggest(t, params.train)         # drawn here, by the one seeded sampler
        for record in run(params, name, [t.number for t in asked]):
            tuning.tell(study, record)
            auc = "-" if record.valid_auc is None else f"{record.valid_auc:.4f}"
            progress.info("    trial %d/%d %-8s valid AUC %s  %d epochs  %.1f s", record.number + 1, cfg.trials,
                          record.state.lower(), auc, record.epochs, record.seconds)
            if record.valid_auc is not None:
                tracking.log_live(params, {"tuning.trial_valid_auc": record.valid_auc}, step=record.number)
    return summarise(study, params)


def summarise(study, params: Params) -> TuningResult:
    from optuna.trial import TrialState

    cfg = params.train.tuning
    records = [TrialRecord(number=t.number, state=t.state.name, values=t.params, epochs=len(t.intermediate_values),
                           valid_auc=t.value if t.state == TrialState.COMPLETE else
                           max(t.intermediate_values.values(), default=None),
                           seconds=round(t.duration.total_seconds(), 2) if t.duration else 0.0)
               for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    complete = [r for r in records if r.state == "COMPLETE"]
    as_written = tuning.written(params.train)
    written = next((r for r in complete if r.values == as_written), None)
    if written is None:
        raise TrainingError(f"tuning study {study.study_name}: the params as written ({as_written}) did not "
                            "train; see the run log")
    best = max(complete, key=lambda r: (r.valid_auc, -r.number))
    return TuningResult(study=study.study_name, storage=tuning.describe_storage(cfg, params.layout.tuning_study),
                        trials=records, best_number=best.number, best_values=best.values,
                        best_valid_auc=best.valid_auc, default_valid_auc=written.valid_auc,
                        seconds=round(sum(r.seconds for r in records), 2))
