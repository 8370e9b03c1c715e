"""torchrun + DistributedDataParallel on CPU (gloo, 2 processes) gives single-process quality."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import write_params

pytestmark = pytest.mark.heavy


def test_ddp_two_processes_match_single_process_quality(tmp_path, small_frame):
    from accelops.config import load_params
    from accelops.features.windows import with_windows
    from accelops.training.split import time_split
    from accelops.training.train import train_model

    params_path = write_params(tmp_path, train={"epochs": 6, "patience": 6, "threads": 1, "batch_size": 256, "precision": "fp32"})
    params = load_params(params_path)
    data = tmp_path / "training_set.parquet"
    with_windows(small_frame, "customer_id", "event_timestamp", params.features.windows).to_parquet(data)
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    res = subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", "-m", "accelops.training.distributed",
                          "--params", str(params_path), "--training-set", str(data), "--out", str(tmp_path / "ddp")],
                         capture_output=True, text=True, timeout=300, env={**__import__("os").environ,
                                                                           "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    ddp = json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1])
    assert ddp["world_size"] == 2 and (tmp_path / "ddp" / "model.pt").exists()

    df = pd.read_parquet(data)
    split = time_split(df, params.dataset.timestamp, params.train.split)
    single = train_model(df[split == "train"], df[split == "valid"], params.model_contract, params.train,
                         tmp_path / "one")
    assert ddp["best_valid_auc"] > 0.7, (ddp["best_valid_auc"], single.best_valid_auc)
    assert abs(ddp["best_valid_auc"] - single.best_valid_auc) < 0.02, (ddp["best_valid_auc"], single.best_valid_auc)


def test_the_training_flow_launches_torchrun_when_params_say_so_and_charts_one_mlflow_run(tmp_path):
    """train.distributed.nproc_per_node 2: the train stage runs torchrun (gloo, 2 processes) instead of
    training in its own process; rank 0 charts every epoch in the flow's one MLflow run; quality as in
    one process on the same split."""
    from mlflow import MlflowClient

    from accelops.config import load_params
    from accelops.pipeline import stages
    from accelops.pipeline.faults import Flow
    from accelops.registry.tracking import tracking_uri
    from accelops.training.split import split_rows
    from accelops.training.train import train_model

    train = {"epochs": 6, "patience": 6, "threads": 2, "batch_size": 256, "precision": "fp32"}
    path = write_params(tmp_path / "project", train={**train, "distributed": {"nproc_per_node": 2}})
    params = load_params(path)
    stages.STAGES["generate"](params)
    flow = Flow(path, tmp_path / "flow.log")
    assert flow.finish(900) == 0, "".join(flow.lines[-40:])
    summary = json.loads(params.layout.training_summary.read_text())
    assert summary["world_size"] == 2 and summary["resumed_from_epoch"] == 0

    client = MlflowClient(tracking_uri(params))
    experiment = client.get_experiment_by_name(params.register_.experiment)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    charted = client.get_metric_history(runs[0].info.run_id, "valid_auc")
    assert [m.step for m in charted] == list(range(1, summary["epochs_run"] + 1)), charted
    assert len({m.timestamp for m in charted}) == len(charted)             # live, one timestamp per epoch

    df = pd.read_parquet(params.layout.training_set)                     # one process, same split and params
    split = split_rows(df, params.model_contract, params.train.split, params.train.seed, params.evaluate.membership_rows)
    single = train_model(df[split == "train"], df[split == "valid"], params.model_contract,
                         params.train.model_copy(update={"threads": 1}), tmp_path / "one")
    ddp_auc = summary["valid_auc"]["network"]
    assert abs(ddp_auc - single.best_valid_auc) < 0.02, (ddp_auc, single.best_valid_auc)
