"""Orchestration overhead: the training flow under Prefect vs the same stage functions called directly.

    python bench/pipeline.py [--rows N] [--epochs E]

Runs, in one process and on the same generated data: a warm-up pass (imports, caches), the
stage functions called directly (baseline, timed per stage), then the Prefect training flow
twice (cold: includes the ephemeral server start; warm). Prints a table and, last, one JSON
line: figures, baseline, ratio (warm flow / direct sum) and target; also writes
bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _results import emit
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
TARGET_RATIO = 1.25


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    from helpers import write_params

    from accelops import runtime
    from accelops.config import load_params
    from accelops.pipeline import stages

    runtime.apply_defaults()          # quiet, untracked tools for the direct stages too (MLflow)
    tmp = Path(tempfile.mkdtemp(prefix="accelops-bench-"))
    size = {"generate": {"rows": args.rows},          # days, start and seed: params.yaml's
            "train": {"epochs": args.epochs, "threads": 0, "patience": args.epochs}}
    paths = {name: write_params(tmp / name, **size) for name in ("warmup", "direct", "flow_cold", "flow_warm")}
    history = tmp / "history.parquet"
    for p in paths.values():
        os.environ.pop("ACCELOPS_WORKDIR", None)
        raw = p.read_text().replace(str(p.parent / "history.parquet"), str(history))
        p.write_text(raw)
    stages.generate(load_params(paths["warmup"]))

    def direct(path: Path) -> dict[str, float]:
        params = load_params(path)
        times = {}
        for name in stages.TRAINING_STAGES:
            t = time.perf_counter()
            stages.STAGES[name](params)
            times[name] = time.perf_counter() - t
        return times

    print(f"rows={args.rows} epochs={args.epochs} workdir={tmp}", file=sys.stderr)
    direct(paths["warmup"])
    baseline = direct(paths["direct"])

    runtime.configure(load_params(paths["flow_cold"]))
    os.environ["PREFECT_HOME"] = str(tmp / "prefect")
    from accelops_flows.training import training_flow

    flows = {}
    for name in ("flow_cold", "flow_warm"):
        t = time.perf_counter()
        result = training_flow(params_path=str(paths[name]), reason="bench")
        flows[name] = {"wall": time.perf_counter() - t, "stages": result["timings"]}

    base_sum = sum(baseline.values())
    ratio = flows["flow_warm"]["wall"] / base_sum
    print(f"\n{'stage':<12} {'direct s':>9} {'in flow s':>10}")
    for name in stages.TRAINING_STAGES:
        print(f"{name:<12} {baseline[name]:>9.2f} {flows['flow_warm']['stages'][name]:>10.2f}")
    print(f"{'total':<12} {base_sum:>9.2f} {flows['flow_warm']['wall']:>10.2f}   "
          f"(cold flow incl. server start: {flows['flow_cold']['wall']:.2f} s)")
    out = {
        "bench": "pipeline", "rows": args.rows, "epochs": args.epochs,
        "baseline": {"what": "stage functions called directly, summed", "seconds": round(base_sum, 3),
                     "stages": {k: round(v, 3) for k, v in baseline.items()}},
        "figures": {"flow_warm_seconds": round(flows["flow_warm"]["wall"], 3),
                    "flow_cold_seconds": round(flows["flow_cold"]["wall"], 3),
                    "flow_warm_stages": flows["flow_warm"]["stages"]},
        "ratio": round(ratio, 3), "target": f"warm flow / direct <= {TARGET_RATIO}",
        "meets_target": ratio <= TARGET_RATIO,
    }
    emit("pipeline", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
