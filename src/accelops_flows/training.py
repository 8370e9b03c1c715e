"""The training flow: reference -> validate -> features (Feast) -> train -> evaluate -> benchmark -> register + gate -> online store."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.states import Completed
from pydantic import Field

from accelops import runtime as runtime_env
from accelops.config import load_params
from accelops.errors import TrackingUnavailable, named_failure
from accelops.fanout import one_cluster
from accelops.pipeline import history, recovery, stage_cache
from accelops.pipeline.summary import stage_line
from accelops.registry import tracking
from accelops.runtime import PROGRESS
from accelops_flows import tasks as t
from accelops_flows.hooks import failure_summary
from accelops_flows.tuning import with_runner

progress = logging.getLogger(PROGRESS)
STAGES = ("reference", "validate", "features", "train", "evaluate", "benchmark", "register", "materialize")


@flow(name="training", log_prints=True, on_failure=[failure_summary])
def training_flow(data: str | None = None, params_path: str | None = None,
                  reason: Annotated[str, Field(min_length=1)] = "manual",
                  new_after: str | None = None,
                  tune_trials: Annotated[int | None, Field(ge=0)] = None) -> dict:
    """Train a challenger and gate it against @champion: validate, features, train, evaluate, benchmark,
    register behind the promotion gate, load the online store.

    Args:
        data: CSV or Parquet file to train on; empty: the history (params.yaml paths.history).
        params_path: params.yaml to use; empty: ACCELOPS_PARAMS or ./params.yaml.
        reason: why this run, recorded on the MLflow run and the model version (the schedule sets "nightly").
        new_after: ISO time after which rows are new (a drift-triggered retraining sets it; the label check
            judges only those rows, by a model fit on them).
        tune_trials: Optuna trials before the final fit (empty: train.tuning.trials; 0: no search); they run
            on orchestration.task_runner.
    """
    params = load_params(params_path)
    if tune_trials is not None:
        params = params.model_copy(update={"train": params.train.model_copy(
            update={"tuning": params.train.tuning.model_copy(update={"trials": tune_trials})})})
    runtime_env.route_logs(params)      # a served run is a fresh process: its tool output to the workdir too
    # one training flow per workdir (waits for the other); with orchestration.task_runner dask and no
    # scheduler address, one local cluster for the run's fanned-out stages and tuning trials
    with recovery.exclusive_training(params), one_cluster(params) as params:
        for line in recovery.recover_interrupted(params):
            get_run_logger().warning("an earlier training run was interrupted: %s", line)
        return _train(params, params_path, data, reason, new_after)


def _train(params, params_path, data, reason, new_after):
    logger = get_run_logger()
    timings: dict[str, float] = {}
    results: dict[str, object] = {}
    data = data or str(history.current(params))      # the history grows with each accepted retraining
    progress.info("training %s on %s", params.dataset.name, data)
    tracking.start_flow_run(params, reason, data)      # visible in the MLflow UI from now on
    stage = "reference"
    tuned = int(params.train.tuning.trials > 0)

    def timed(name, fn, *args):
        nonlocal stage
        stage, start = name, time.perf_counter()
        results[name] = fn.with_options(timeout_seconds=params.serve.stage_timeout_minutes * 60)(*args)
        timings[name] = round(time.perf_counter() - start, 2)
        tracking.log_live(params, {f"stage_seconds.{name}": timings[name]})
        progress.info("  [%d/%d] %-11s %7.1f s  %s", len(timings), len(STAGES) + tuned, name, timings[name],
                      stage_line(results[name]))

    try:
        _stages(params, params_path, data, reason, new_after, timed, results)
    except BaseException as exc:                       # the run says where and why it stopped
        named = named_failure(exc)        # the tracking server gone, a full disk: named
        failure = named or exc
        if not isinstance(named, TrackingUnavailable):  # else closing would wait out the retries again
            try:
                tracking.end_flow_run(params, "FAILED", f"Failed in stage {stage}: {type(failure).__name__}: {failure}")
            except Exception as closing:                # the next run closes it (recovery.recover_interrupted)
                logger.warning("could not mark the MLflow run FAILED: %s: %s", type(closing).__name__, closing)
        if named is not None:
            raise named from exc
        raise
    tracking.end_flow_run(params, "FINISHED")
    stage_cache.forget(params)          # a completed run: the next one runs every stage (only reruns reuse)
    reg = results["register"]
    outcome = f"v{reg.version} {reg.status}: {reg.reason}"
    logger.info("gate decision: %s", outcome)
    progress.info("gate: %s (%.0f s in all; details: %s)", outcome, sum(timings.values()), params.layout.run_log)
    # the run's state carries the outcome: a rejected challenger is not a bare green "Completed". Its name
    # (the badge in the run list and page: "Promoted", "Rejected", "Pending approval", "Dry run") over the
    # COMPLETED type, which concurrency limits, automations and retries read; the message says why
    return Completed(name=STATE_NAMES[reg.status], message=outcome[:500], data={"timings": timings, **results})


STATE_NAMES = {"PROMOTED": "Promoted", "REJECTED": "Rejected", "PENDING_APPROVAL": "Pending approval",
               "DRY_RUN": "Dry run"}


def _stages(params, params_path, data, reason, new_after, timed, results) -> None:
    timed("reference", t.reference, params)
    timed("validate", t.validate, params, data, new_after)
    timed("features", t.features, params)
    if params.train.tuning.trials:                      # trials on the task runner; train fits the best values
        timed("tune", with_runner(params), params)
    timed("train", t.train, params)
    timed("evaluate", t.evaluate, params)
    timed("benchmark", t.benchmark, params)
    timed("register", t.register, params, reason)
    if results["register"].status == "PENDING_APPROVAL":
        from accelops.registry.promotion import Registration
        from accelops_flows.approval import approval_flow

        decided = approval_flow(registration=results["register"].model_dump(mode="json"), params_path=params_path)
        results["register"] = Registration.model_validate(decided)
    timed("materialize", t.materialize, params)
