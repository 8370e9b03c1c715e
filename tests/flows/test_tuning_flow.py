"""The tuning subflow on both task runners: each trial a task run; prefect-dask on a local cluster of two
worker processes draws, trains and scores exactly the trials the threads runner does."""

import shutil

from accelops.config import load_params
from accelops.pipeline import stages
from helpers import write_params


def test_dask_runner_gives_the_same_trials_as_the_threads_runner(tmp_path):
    from accelops_flows.tuning import with_runner

    searched = {}
    for runner in ("threads", "dask"):
        path = write_params(tmp_path, train={"epochs": 5, "threads": 1, "batch_size": 256, "patience": 2,
                                             "tuning": {"trials": 4, "parallel": 2}},
                            orchestration={"task_runner": runner, "dask_workers": 2})
        params = load_params(path)
        if runner == "threads":
            for name in ("generate", "reference", "validate", "features"):
                stages.STAGES[name](params)
        shutil.rmtree(params.layout.tuning_study.parent, ignore_errors=True)        # a fresh study each time
        state = with_runner(params)(params, return_state=True)
        assert state.is_completed()
        searched[runner] = state.result()

    threads, dask = searched["threads"], searched["dask"]
    assert threads.study == dask.study and len(dask.trials) == 4
    assert [t.model_dump(exclude={"seconds"}) for t in dask.trials] == \
        [t.model_dump(exclude={"seconds"}) for t in threads.trials]
    assert dask.best_values == threads.best_values and dask.best_valid_auc == threads.best_valid_auc
