"""DistributedDataParallel training: the entry point torchrun starts in each process, and `launch`, which
the train stage calls when `train.distributed` asks for more than one process or host:

    torchrun --nproc_per_node=4 -m accelops.training.distributed --params params.yaml

NCCL on CUDA (one GPU per local rank), gloo on CPU. It trains on the training set the features stage
wrote, with the same split, loop and checkpoints as `accelops stage train`; rank 0 writes the model
directory, charts each epoch in the flow's MLflow run (when launched by the stage with one open) and
prints the result as JSON."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accelops.config import Params
    from accelops.training.schema import TrainResult


def launch(params: Params, out_dir: Path, checkpoint_dir: Path, fingerprint: str,
           live: tuple[str, str] | None = None) -> TrainResult:
    """torchrun over this entry point as `train.distributed` says (standalone on one host; c10d rendezvous
    at rdzv_endpoint across hosts), each process with its share of the CPU threads; rank 0 charts each
    epoch in MLflow run `live` = (tracking URI, run id) when given; rank 0's result, or TrainingError
    with the failing process's last lines."""
    from accelops.errors import TrainingError
    from accelops.runtime import available_cores
    from accelops.training.schema import TrainResult

    d = params.train.distributed
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    snapshot = checkpoint_dir / "distributed_params.json"       # the params every process loads
    snapshot.write_text(json.dumps({"root": str(params.root), "params": params.model_dump(mode="json", by_alias=True)}))
    threads = max(1, (params.train.threads or available_cores()) // d.nproc_per_node)
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={d.nproc_per_node}", f"--nnodes={d.nnodes}",
           *(["--standalone"] if d.nnodes == 1 else
             ["--rdzv_backend=c10d", f"--rdzv_endpoint={d.rdzv_endpoint}", f"--rdzv_id={d.rdzv_id}"]),
           "-m", "accelops.training.distributed", "--params-json", str(snapshot), "--out", str(out_dir),
           "--checkpoint-dir", str(checkpoint_dir), "--fingerprint", fingerprint, "--threads", str(threads),
           *(["--mlflow-uri", live[0], "--mlflow-run", live[1]] if live else [])]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise TrainingError(f"torchrun ({d.nproc_per_node} process(es) x {d.nnodes} host(s), train.distributed) "
                            f"exited {done.returncode}{'' if lines else ' without a result'}:\n{tail}")
    return TrainResult.model_validate_json(lines[-1])


def _load(args) -> Params:
    from accelops.config import load_params, parse_params

    if args.params_json:
        snap = json.loads(Path(args.params_json).read_text())
        return parse_params(snap["params"], root=Path(snap["root"]), source=args.params_json)
    return load_params(args.params)


def _live(uri: str, run_id: str):
    """on_epoch_end: the epoch's metrics into the flow's MLflow run now, with the present time."""
    import time

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(uri)

    def log(epoch: int, record: dict) -> None:
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, float(record[k]), now, epoch) for k in ("train_loss", "valid_auc", "lr")])
    return log


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    import torch
    import torch.distributed as dist

    from accelops.training.split import split_rows
    from accelops.training.train import train_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=None)
    ap.add_argument("--params-json", default=None, help="the params as the train stage passes them (launch)")
    ap.add_argument("--training-set", default=None, help="default: the features stage's output")
    ap.add_argument("--out", default=None, help="model directory (default: the workdir's model/)")
    ap.add_argument("--checkpoint-dir", default=None, help="resume from / save checkpoints here (rank 0 saves)")
    ap.add_argument("--fingerprint", default="", help="the data and params a checkpoint must belong to")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: train.threads)")
    ap.add_argument("--mlflow-uri", default=None, help="with --mlflow-run: rank 0 charts each epoch there")
    ap.add_argument("--mlflow-run", default=None, help="the flow's MLflow run id")
    args = ap.parse_args(argv)

    params = _load(args)
    cuda = torch.cuda.is_available() and params.train.device in ("auto", "cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        update = {"device": "cuda" if cuda else "cpu"} | ({"threads": args.threads} if args.threads else {})
        train_params = params.train.model_copy(update=update)
        lay = params.layout
        df = pd.read_parquet(args.training_set or lay.training_set)
        split = split_rows(df, params.dataset, train_params.split, train_params.seed, params.evaluate.membership_rows)
        live = _live(args.mlflow_uri, args.mlflow_run) if args.mlflow_run and dist.get_rank() == 0 else None
        result = train_model(df[split == "train"], df[split == "valid"], params.model_contract, train_params,
                             Path(args.out or lay.model_dir), checkpoint_dir=args.checkpoint_dir,
                             fingerprint=args.fingerprint, on_epoch_end=live)
        if dist.get_rank() == 0:
            print(result.model_dump_json(), flush=True)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
