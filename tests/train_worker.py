"""Subprocess used by the kill-and-resume test: trains on deterministic data with checkpoints,
printing `EPOCH n` after each epoch's checkpoint and sleeping after epoch `pause_at` (0: never)
so that the test can kill it at a known point."""

import sys
import time
from pathlib import Path

from accelops.config import load_params
from accelops.data.generator import generate
from accelops.training.split import time_split
from accelops.training.train import train_model


def main(params_path: str, out_dir: str, checkpoint_dir: str, pause_at: int) -> None:
    params = load_params(params_path)
    df = generate(4000, 60, "2026-06-01", seed=3).frame
    split = time_split(df, params.dataset.timestamp, params.train.split)

    def report(epoch, record):
        print(f"EPOCH {epoch} {record['valid_auc']:.10f}", flush=True)
        if epoch == pause_at:
            time.sleep(60)

    result = train_model(df[split == "train"], df[split == "valid"], params.dataset, params.train, Path(out_dir),
                         checkpoint_dir=Path(checkpoint_dir), fingerprint="test", on_epoch_end=report)
    print(f"DONE resumed_from={result.resumed_from_epoch} best={result.best_valid_auc:.10f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
