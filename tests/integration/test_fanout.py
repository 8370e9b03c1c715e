"""A stage's pieces (the label check's folds, the evaluation's slice groups, the features' and the suite's
entity partitions) on a local Dask cluster of two
worker processes give exactly what they give in process (orchestration.task_runner: dask vs threads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accelops.config import OrchestrationParams
from accelops.evaluation import metrics, slices
from accelops.fanout import InProcess, fanout
from accelops.validation import label_quality as lq


@pytest.fixture(scope="module")
def dask_fan():
    with fanout(OrchestrationParams(task_runner="dask", dask_workers=2)) as fan:
        yield fan


def test_the_fanout_for_threads_runs_in_process_and_dask_starts_a_local_cluster(dask_fan):
    with fanout(OrchestrationParams(task_runner="threads")) as fan:
        assert isinstance(fan, InProcess) and fan.workers == 1
    assert dask_fan.workers == 2
    assert len(dask_fan.client.scheduler_info()["workers"]) == 2
    # shared inputs reach every piece; the results come back in the items' order
    assert dask_fan.map(_scaled, [3, 1, 2], base=np.arange(4)) == [[0, 3, 6, 9], [0, 1, 2, 3], [0, 2, 4, 6]]
    assert dask_fan.map(_scaled, [], base=np.arange(4)) == []
    with pytest.raises(TypeError, match="key"):          # Client.map would read it as the task key
        dask_fan.map(_scaled, [1], key=np.arange(4))


def _scaled(k, base):
    return (base * k).tolist()


def test_slice_records_on_dask_equal_the_in_process_records(dask_fan):
    rng = np.random.default_rng(3)
    n = 20000
    frame = pd.DataFrame({"segment": rng.choice(["good", "bad", "ok", None], n),
                          "region": rng.choice(["n", "s", "e", "w"], n)})
    y = rng.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(np.where(frame["segment"] == "bad", 0.3, 2.0) * (y - 0.5) + rng.normal(0, 1, n))))
    args = (frame, y, p, ["segment", "region"], 100, 0.02, metrics.fast_auc(y, p), 60, True, 7)
    here = slices.slice_report(*args)
    there = slices.slice_report(*args, fan=dask_fan)
    assert there == here
    assert {r["slice"] for r in here} == {"segment", "region", "segment x region"}
    assert any(r["weak"] for r in here if r["value"] == "bad")


def test_label_check_folds_on_dask_equal_the_in_process_folds(dask_fan, params):
    from accelops.data.generator import generate

    df = generate(6000, 60, "2026-06-01", seed=5, scenario="label_noise", severity=2.0).frame
    contract = params.dataset
    for fit_rows in (None, 2500):            # every row in the folds; folds on a sample, the rest averaged
        here = lq.out_of_fold_proba(df, contract, folds=3, threads=1, fit_rows=fit_rows)
        there = lq.out_of_fold_proba(df, contract, folds=3, threads=1, fit_rows=fit_rows, fan=dask_fan)
        assert np.array_equal(here, there) and np.isfinite(here).all()


def test_evaluate_and_reference_stages_on_dask_write_what_they_write_in_process(trained_copy):
    """orchestration.task_runner: dask through the stages themselves (a local cluster each): the
    evaluation report and the reference's label-error rate equal the threads runner's."""
    from accelops.pipeline import stages
    from accelops.pipeline.files import read_model
    from accelops.validation.label_quality import ReferenceLabels

    params = trained_copy.params
    on_dask = params.model_copy(update={"orchestration": OrchestrationParams(task_runner="dask", dask_workers=2)})
    def labels():             # the source's path names the copied project's folder: the rest must match
        return read_model(ReferenceLabels, params.layout.reference_label_quality, "reference").model_dump(
            exclude={"source"})

    threads_labels = labels()
    params.layout.reference_profile.unlink()                  # the reference is computed again, on dask
    assert stages.reference(on_dask).recomputed
    assert labels() == threads_labels and threads_labels["rows"] > 0
    threads_report = trained_copy.out["evaluate"]
    dask_report = stages.evaluate(on_dask)
    assert dask_report.slices == threads_report.slices and len(dask_report.slices) > 3
    assert dask_report == threads_report


@pytest.mark.heavy          # a local cluster and a whole stage twice (~35 s): CI's heavy job
def test_features_stage_on_dask_writes_the_same_feature_table_and_training_set(trained_copy):
    """The window aggregates and the as-of join per entity partition on two Dask workers: the feature
    table, the training set and the per-view statistics equal the threads runner's, bit for bit."""
    from accelops.pipeline import stages

    params = trained_copy.params
    lay = params.layout
    before = {path: pd.read_parquet(path) for path in (lay.features_table, lay.training_set)}
    threads_stats = stages.features(params).views
    on_dask = params.model_copy(update={"orchestration": OrchestrationParams(task_runner="dask", dask_workers=2)})
    dask_stats = stages.features(on_dask).views
    for path, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(path), frame, check_exact=True)
    assert params.features.windows and any(c.startswith("events_") for c in before[lay.features_table].columns)
    assert dask_stats == threads_stats


@pytest.mark.heavy          # a local cluster and a whole stage twice (~35 s): CI's heavy job
def test_validate_stage_on_dask_writes_what_it_writes_in_process(trained_copy):
    """The suite's row-wise rules per entity partition and the label check's folds on two Dask workers: the
    validation report (every rule's outcome and counts, the quarantine, the label check) and the validated
    rows equal the threads runner's."""
    from accelops.pipeline import stages

    params = trained_copy.params
    threads_report = stages.validate(params).model_dump(exclude={"data_docs"})
    threads_rows = pd.read_parquet(params.layout.validated)
    on_dask = params.model_copy(update={"orchestration": OrchestrationParams(task_runner="dask", dask_workers=2)})
    dask_report = stages.validate(on_dask).model_dump(exclude={"data_docs"})
    assert dask_report == threads_report and threads_report["evaluated"] >= 40
    pd.testing.assert_frame_equal(pd.read_parquet(params.layout.validated), threads_rows, check_exact=True)
    assert (params.layout.data_docs / "index.html").exists()


def test_one_cluster_serves_a_whole_run_and_stops_after_it(params):
    """The training flow's cluster: dask without an address gets one local cluster for the run (the stages
    and the tuning runner reach it by its address); threads, or an existing scheduler, are left as they are."""
    from distributed import Client

    from accelops.fanout import one_cluster

    with one_cluster(params) as same:
        assert same is params                                          # threads: nothing started
    on_dask = params.model_copy(update={"orchestration": OrchestrationParams(task_runner="dask", dask_workers=2)})
    with one_cluster(on_dask) as run:
        address = run.orchestration.dask_address
        assert address and address.startswith("tcp://127.0.0.1:")
        with fanout(run.orchestration) as fan:                         # a stage: a client of that cluster
            assert fan.workers == 2 and fan.map(_scaled, [2], base=np.arange(2)) == [[0, 2]]
        with one_cluster(run) as nested:
            assert nested is run                                       # an address given: used as it is
    with pytest.raises(OSError):
        Client(address, timeout=2, set_as_default=False)                # stopped with the run
