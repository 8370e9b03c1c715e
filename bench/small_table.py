"""Small tables fast: the training flow on 10k-row and 6k-row tables against the 200k-row demo table.

    python bench/small_table.py [--demo-rows N] [--small-rows N]

In one process, on this machine: a warm-up flow (imports, the ephemeral Prefect server), then the
training flow on the demo's 200k-row history with the demo's params.yaml (the baseline), on a
10k-row table of the same generator written as a CSV and configured by `accelops init` (generic
defaults: sizes follow the data, the serving benchmark budgets by benchmark.scale_rows, one thread
below 20k rows), and on statsmodels' fair table (6,366 rows, `accelops init` too). Prints the
stage x table seconds and, last, one JSON line: the ratio of each small table's flow time to the
demo's and the target (<= 0.40); also writes bench/results/small_table.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _results import emit

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.40


def _init(data: Path, folder: Path, *args: str) -> Path:
    from typer.testing import CliRunner

    from accelops.cli import app

    out = folder / "params.yaml"
    res = CliRunner().invoke(app, ["init", "--data", str(data), "--out", str(out), *args])
    if res.exit_code != 0:
        raise SystemExit(f"accelops init failed on {data}: {res.output} {res.exception}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo-rows", type=int, default=200_000)
    ap.add_argument("--small-rows", type=int, default=10_000)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    import statsmodels.api as sm

    from accelops import runtime
    from accelops.config import load_params
    from accelops.data.generator import generate
    from accelops.pipeline import stages

    tmp = Path(tempfile.mkdtemp(prefix="accelops-small-"))
    os.environ.pop("ACCELOPS_WORKDIR", None)
    os.environ["PREFECT_HOME"] = str(tmp / "prefect")
    # the demo: the repo's params.yaml with every path inside tmp
    demo = tmp / "demo"
    demo.mkdir()
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["paths"] = {"workdir": str(demo / "work"), "history": str(demo / "history.parquet"),
                    "feature_repo": str(REPO / "feature_repo")}
    raw["generate"]["rows"] = args.demo_rows
    (demo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    stages.generate(load_params(demo / "params.yaml"))
    # the same generator at 10k rows as a user's CSV, configured by accelops init
    small = tmp / "small"
    small.mkdir()
    g = load_params(demo / "params.yaml").generate
    generate(args.small_rows, g.days, g.start, seed=g.seed + 1).frame.to_csv(small / "customers.csv", index=False)
    small_params = _init(small / "customers.csv", small, "--label", "churned")
    fair = tmp / "fair"
    fair.mkdir()
    df = sm.datasets.fair.load_pandas().data
    df.assign(had_affair=(df.pop("affairs") > 0).astype(int)).to_csv(fair / "fair.csv", index=False)
    fair_params = _init(fair / "fair.csv", fair)
    warm = tmp / "warmup"
    warm.mkdir()
    df.head(1500).assign(had_affair=lambda d: (d.index % 3 == 0).astype(int)).to_csv(warm / "w.csv", index=False)
    warm_params = _init(warm / "w.csv", warm)

    runtime.configure(load_params(demo / "params.yaml"))
    from accelops_flows.training import training_flow

    runs: dict[str, dict] = {}
    for name, path in (("warmup", warm_params), ("demo", demo / "params.yaml"), ("small", small_params),
                       ("fair", fair_params)):
        print(f"training flow: {name} ({path})", file=sys.stderr)
        t = time.perf_counter()
        result = training_flow(params_path=str(path), reason="bench")
        runs[name] = {"wall": time.perf_counter() - t, "stages": result["timings"],
                      "rows": sum(result["train"].rows.values()),
                      "status": result["register"].status, "test_auc": result["evaluate"].intervals["roc_auc"].value}
    names = ("demo", "small", "fair")
    print(f"\n{'stage':<12}" + "".join(f"{n + ' s':>12}" for n in names))
    for stage in runs["demo"]["stages"]:
        print(f"{stage:<12}" + "".join(f"{runs[n]['stages'].get(stage, float('nan')):>12.2f}" for n in names))
    print(f"{'flow wall':<12}" + "".join(f"{runs[n]['wall']:>12.2f}" for n in names))
    print(f"{'rows':<12}" + "".join(f"{runs[n]['rows']:>12}" for n in names))
    ratios = {n: runs[n]["wall"] / runs["demo"]["wall"] for n in ("small", "fair")}
    out = {
        "bench": "small_table", "cores": runtime.available_cores(),
        "baseline": {"what": f"training flow on the {runs['demo']['rows']}-row demo table, demo params.yaml",
                     "seconds": round(runs["demo"]["wall"], 2), "stages": runs["demo"]["stages"]},
        "figures": {n: {k: (round(v, 2) if isinstance(v, float) else v) for k, v in runs[n].items()}
                    for n in ("small", "fair", "warmup")},
        "ratio": {n: round(r, 3) for n, r in ratios.items()},
        "target": f"each small table's flow / the demo's <= {TARGET_RATIO}",
        "meets_target": all(r <= TARGET_RATIO for r in ratios.values()),
    }
    emit("small_table", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
