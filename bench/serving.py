"""Serving benchmark: the whole variant table (accelops.serving) for a freshly trained demo model,
and the two serving targets, each a ratio against torch eager measured in the same run.

    python bench/serving.py [--rows N] [--score-rows M] [--epochs E] [--results DIR]

1. The recommended online variant's p50 at batch 1 against fp32 torch eager's (target <= 1/3).
2. Batch scoring of M rows end to end (preprocessing included) with the recommended batch variant
   against fp32 torch eager at batch 1024 (target >= 1.4x faster).
On a machine with CUDA the table includes the GPU variants (this is the script to run when a GPU is
lent). Writes bench/results/serving.json (serving_cuda.json with a GPU) and prints one JSON line last.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import emit, model_frame

REPO = Path(__file__).resolve().parents[1]
TARGET_ONLINE, TARGET_BATCH = 1 / 3, 1.4


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="training history rows")
    ap.add_argument("--score-rows", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-sizes", default=None, help="comma list (default: params.yaml benchmark.batch_sizes)")
    ap.add_argument("--runtimes", default=None, help="comma list (default: params.yaml benchmark.runtimes)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=str(REPO / "bench" / "results"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import pandas as pd
    import torch

    from accelops.config import load_params
    from accelops.runtime import available_cores
    from accelops.serving.benchmark import run_benchmark, table
    from accelops.serving.scorer import Scorer
    from accelops.serving.variants import REFERENCE, load_runner
    from accelops.training.export import export_onnx
    from accelops.training.model_folder import read_preprocessor
    from accelops.training.split import time_split
    from accelops.training.train import train_model

    params = load_params(REPO / "params.yaml")
    bench = params.benchmark
    if args.batch_sizes:
        bench = bench.model_copy(update={"batch_sizes": [int(b) for b in args.batch_sizes.split(",")]})
    if args.runtimes:
        bench = bench.model_copy(update={"runtimes": args.runtimes.split(",")})
    threads = bench.threads or available_cores()
    frame, c = model_frame(params, args.rows, seed=7)
    split = time_split(frame, c.timestamp, params.train.split)
    train, valid, test = (frame[split == s].reset_index(drop=True) for s in ("train", "valid", "test"))
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, serving_dir = Path(tmp) / "model", Path(tmp) / "serving"
        train_model(train, valid, c, params.train.model_copy(update={"epochs": args.epochs}), model_dir)
        export_onnx(model_dir, test.head(2048))
        typed = run_benchmark(model_dir, test, c, bench, Path(tmp) / "report", serving_dir, train_df=train)
        result = typed.model_dump()
        print(table(typed))
        rows = {(r["variant"], r["batch_size"]): r for r in result["rows"]}
        rec = result["recommendation"]

        online = rec["cpu_fallback"]["online"]            # the CPU target compares CPU against CPU
        eager_b1 = rows.get((REFERENCE.name, 1))
        online_ratio = online["p50_ms"] / eager_b1["p50_ms"] if online and eager_b1 else None

        big = pd.concat([test] * -(-args.score_rows // len(test)), ignore_index=True).head(args.score_rows)
        scorer = Scorer(model_dir, serving_dir, mode="batch", threads=threads)
        pre = read_preprocessor(model_dir)
        eager = load_runner(model_dir, REFERENCE, threads)

        def eager_1024():
            xn, xc = pre.transform(big)
            for s in range(0, len(big), 1024):
                eager(xn[s:s + 1024], xc[s:s + 1024])

        scorer.predict_proba(big.head(4096))
        t_eager = _best_of(eager_1024, args.repeats)
        t_rec = _best_of(lambda: scorer.predict_proba(big), args.repeats)
        t_pre = _best_of(lambda: pre.transform(big), args.repeats)
        xn, xc = pre.transform(big)                      # the model alone, inputs already prepared

        def model_only(runner, step):
            for s in range(0, len(xn), step):
                runner(xn[s:s + step], xc[s:s + step])

        m_eager = _best_of(lambda: model_only(eager, 1024), args.repeats)
        m_rec = _best_of(lambda: model_only(scorer.runner, scorer.batch_size), args.repeats)

    batch_speedup = t_eager / t_rec
    out = {
        "bench": "serving", "device": "cuda" if torch.cuda.is_available() else "cpu", "threads": threads,
        "machine": result["machine"], "training_rows": args.rows, "test_rows": len(test),
        "variants": result["variants"], "skipped": result["skipped"], "rows": result["rows"],
        "recommendation": {k: v for k, v in rec.items() if k != "cpu_fallback"},
        "cpu_recommendation": rec["cpu_fallback"],
        "online": {"variant": online and online["variant"], "p50_ms": online and online["p50_ms"],
                   "eager_p50_ms": eager_b1 and eager_b1["p50_ms"], "ratio": online_ratio,
                   "target": f"<= {TARGET_ONLINE:.3f}",
                   "met": online_ratio is not None and online_ratio <= TARGET_ONLINE},
        "batch_scoring": {"rows": args.score_rows, "variant": scorer.variant.name, "batch_size": scorer.batch_size,
                          "seconds": t_rec, "eager_1024_seconds": t_eager, "preprocess_seconds": t_pre,
                          "model_only_seconds": m_rec, "model_only_eager_1024_seconds": m_eager,
                          "model_only_speedup": m_eager / m_rec,
                          "speedup": batch_speedup, "target": f">= {TARGET_BATCH}", "met": batch_speedup >= TARGET_BATCH},
        "benchmark_seconds": result["seconds"],
    }
    print(f"\nonline p50 at batch 1: {online and online['variant']} {online and online['p50_ms']:.4f} ms vs eager "
          f"{eager_b1 and eager_b1['p50_ms']:.4f} ms -> ratio {online_ratio:.3f} (target <= {TARGET_ONLINE:.3f})")
    print(f"batch scoring {args.score_rows} rows: {scorer.variant.name} @ {scorer.batch_size} {t_rec:.3f} s vs eager "
          f"@ 1024 {t_eager:.3f} s -> {batch_speedup:.2f}x (target >= {TARGET_BATCH}); preprocessing alone {t_pre:.3f} s; "
          f"model alone {m_rec:.3f} s vs {m_eager:.3f} s ({m_eager / m_rec:.2f}x)")
    name = "serving_cuda" if out["device"] == "cuda" else "serving"
    emit(name, out, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
