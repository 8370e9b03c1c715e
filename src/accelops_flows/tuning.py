"""The tuning subflow: Optuna trials as task runs on the task runner orchestration.task_runner names
(Prefect's thread pool, or prefect-dask on a local cluster or an existing scheduler)."""

from __future__ import annotations

from prefect import flow, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from accelops.config import Params
from accelops.pipeline import tuning as tuning_stage
from accelops.training.schema import TrialRecord, TuningResult


def task_runner(params: Params):
    """The runner fanned-out tasks use. threads: one task at a time in the flow's process (torch's RNG and
    thread pool are process-wide, so two trials in one process would not be reproducible, and each trial
    already uses every core); dask: prefect-dask, each task in a worker process."""
    o = params.orchestration
    if o.task_runner == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask import DaskTaskRunner

    if o.dask_address:
        return DaskTaskRunner(address=o.dask_address)
    # worker processes of one thread each (a trial sets its own torch threads); the dashboard on a free port
    return DaskTaskRunner(cluster_kwargs={"n_workers": o.dask_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": ":0"})


@task(name="trial", cache_policy=NO_CACHE, persist_result=False)
def trial(params: Params, study: str, number: int) -> TrialRecord:
    return tuning_stage.trial(params, study, number)


def _on_runner(params: Params, study: str, numbers: list[int]) -> list[TrialRecord]:
    return [f.result() for f in trial.map(unmapped(params), unmapped(study), numbers)]


@flow(name="tuning", log_prints=True)
def tuning_flow(params: Params) -> TuningResult | None:
    """Optuna search over the network's hyperparameters (train.tuning): trials run as tasks on the task
    runner; the train stage then fits the best values."""
    result = tuning_stage.search(params, _on_runner)
    if result is not None:
        create_table_artifact(
            [{"trial": r.number, "state": r.state, "valid_auc": r.valid_auc, "epochs": r.epochs,
              "seconds": r.seconds, **{k: str(v) for k, v in r.values.items()}} for r in result.trials],
            key="tuning", description=(f"Optuna study {result.study}: trial {result.best_number} best, valid AUC "
                                       f"{result.best_valid_auc:.4f} vs {result.default_valid_auc:.4f} as written"))
    return result


def with_runner(params: Params):
    """tuning_flow on the runner params name (a flow's runner is fixed when it is called)."""
    return tuning_flow.with_options(task_runner=task_runner(params))
