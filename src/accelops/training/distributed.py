"""DistributedDataParallel training entry point, for torchrun (several GPUs, or hosts):

    torchrun --nproc_per_node=4 -m accelops.training.distributed --params params.yaml

NCCL on CUDA (one GPU per local rank), gloo on CPU. It trains on the training set the features
stage wrote, with the same split, loop and checkpoints as `accelops stage train`; rank 0 writes
the model directory and prints the result as JSON."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    import torch
    import torch.distributed as dist

    from accelops.config import load_params
    from accelops.training.split import split_rows
    from accelops.training.train import train_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=None)
    ap.add_argument("--training-set", default=None, help="default: the features stage's output")
    ap.add_argument("--out", default=None, help="model directory (default: the workdir's model/)")
    args = ap.parse_args(argv)

    params = load_params(args.params)
    cuda = torch.cuda.is_available() and params.train.device in ("auto", "cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        train_params = params.train.model_copy(update={"device": "cuda" if cuda else "cpu"})
        lay = params.layout
        df = pd.read_parquet(args.training_set or lay.training_set)
        split = split_rows(df, params.dataset, train_params.split, train_params.seed, params.evaluate.membership_rows)
        result = train_model(df[split == "train"], df[split == "valid"], params.model_contract, train_params,
                             Path(args.out or lay.model_dir))
        if dist.get_rank() == 0:
            print(json.dumps(result.model_dump(mode="json") | {"world_size": dist.get_world_size()}), flush=True)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
