"""The CUDA training path end to end, for the day a GPU is lent (the library's device tool).

    python bench/gpu_training.py [--rows N] [--device auto|cuda|cpu] [--batches 1024,4096,...]

On the chosen device (auto: cuda when present): fp32 and bf16 matmul peaks; the training step
on device-resident tensors at several batch sizes in fp32 and bf16 autocast for the default and
the 109k-parameter reference model (samples/s, share of the same-precision peak); then the real
`train_model` (fp32 and bf16) on N rows with its AUC and wall time, and the ONNX export check.
The CPU run with tiny sizes is what the test suite exercises. Writes bench/results/gpu_training.json
(gpu_training_cpu.json when it ran on the CPU) and prints one JSON line last.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _loops import macs, matmul_peak, resident_loop

from _results import emit, model_frame
REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    ap.add_argument("--batches", default="1024,4096,16384,65536")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--results", default=str(REPO / "bench" / "results"))
    args = ap.parse_args(argv)

    import torch

    from accelops.config import load_params
    from accelops.evaluation.metrics import fast_auc
    from accelops.training.device import choose_device, cpu_has_native_bf16
    from accelops.training.export import export_onnx
    from accelops.training.model import build_model
    from accelops.training.predict import Predictor
    from accelops.training.preprocess import Preprocessor
    from accelops.training.split import time_split
    from accelops.training.train import train_model

    device = choose_device(args.device, 0)
    dev = torch.device(device.type)
    bf16_ok = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_native_bf16()
    params = load_params(REPO / "params.yaml")
    tp = params.train
    small = device.type == "cpu"
    sizes = (256, 512) if small else (4096, 8192)
    peaks = {"fp32": matmul_peak(torch, sizes, 3, device.type)}
    if bf16_ok:
        peaks["bf16"] = matmul_peak(torch, sizes, 3, device.type, torch.bfloat16)

    df, c = model_frame(params, args.rows, seed=1)
    pre = Preprocessor.fit(df, list(c.numeric_features), list(c.categorical_features))
    a, b = pre.transform(df)
    pin = device.type == "cuda"
    xn = torch.from_numpy(a).pin_memory().to(dev, non_blocking=True) if pin else torch.from_numpy(a)
    xc = torch.from_numpy(b).pin_memory().to(dev, non_blocking=True) if pin else torch.from_numpy(b)
    y = torch.from_numpy(df[c.label].to_numpy(np.float32)).to(dev)
    arch = dict(n_numeric=len(pre.numeric), cardinalities=pre.cardinalities, embedding_dim=tp.embedding_dim,
                dropout=0.0)
    loops = []
    for name, hidden in {"default": list(tp.hidden), "ref_109k": [256, 256, 128]}.items():
        for precision in ["fp32"] + (["bf16"] if bf16_ok else []):
            for batch in (int(x) for x in args.batches.split(",")):
                torch.manual_seed(0)
                model = build_model(hidden=hidden, **arch).to(dev)
                sps = resident_loop(torch, model, xn, xc, y, batch, args.steps, bf16=precision == "bf16")
                gflops = sps * 6 * macs(model, torch) / 1e9
                loops.append({"model": name, "precision": precision, "batch": batch, "samples_per_s": sps,
                              "gflops": gflops, "share_of_peak": gflops / peaks[precision]})
                print(f"{name:<9} {precision:<5} batch {batch:>6}: {sps:>12.0f} samples/s "
                      f"{gflops:>8.1f} GFLOP/s ({gflops / peaks[precision]:.1%} of {precision} peak)", flush=True)

    split = time_split(df, c.timestamp, tp.split)
    parts = {s: df[split == s] for s in ("train", "valid", "test")}
    runs = {}
    out = Path(tempfile.mkdtemp(prefix="accelops-gpu-"))
    for precision in ["fp32"] + (["bf16"] if bf16_ok else []):
        t = time.perf_counter()
        r = train_model(parts["train"], parts["valid"], c,
                        tp.model_copy(update={"device": device.type, "precision": precision, "epochs": args.epochs,
                                              "patience": args.epochs}), out / precision)
        auc = fast_auc(parts["test"][c.label].to_numpy(), Predictor(out / precision).predict_proba(parts["test"]))
        runs[precision] = {"seconds": time.perf_counter() - t, "epochs": r.epochs_run, "test_auc": auc,
                           "seconds_per_epoch": r.seconds / max(r.epochs_run, 1)}
        print(f"train_model {precision}: {runs[precision]}", flush=True)
    onnx = export_onnx(out / "fp32", parts["test"].head(2048))

    result = {"bench": "gpu_training", "device": device.type, "device_name": device.name, "rows": args.rows,
              "torch": torch.__version__, "cuda": torch.version.cuda, "bf16_supported": bf16_ok,
              "baseline": {"matmul_peak_gflops": peaks}, "figures": {"loops": loops, "train_model": runs,
                                                                      "onnx_max_abs_diff": onnx["max_abs_diff"]},
              "ratio": {"best_share_of_peak": max(r["share_of_peak"] for r in loops),
                        "bf16_vs_fp32_train_seconds": runs["fp32"]["seconds"] / runs["bf16"]["seconds"]
                        if "bf16" in runs else None},
              "target": "figures for the record (no target on a lent GPU yet)"}
    name = "gpu_training.json" if device.type == "cuda" else "gpu_training_cpu.json"
    emit(name.removesuffix(".json"), result, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
