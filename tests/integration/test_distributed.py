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
