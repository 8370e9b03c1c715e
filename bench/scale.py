"""Scale: every training stage at growing history sizes, with its wall time and peak memory.

    python bench/scale.py [--sizes 100000 1000000 [10000000]] [--cache DIR]

For each size: the demo's params.yaml with generate.rows = size (histories generated once into the
cache folder and reused), then each stage of the training pipeline run as DVC runs it (`accelops
stage NAME`, a fresh process each) with its wall time and the process's peak resident memory
(os.wait4's ru_maxrss; each figure includes ~3-5 s and ~0.5 GB of imports). Prints the stage x size
table and, last, one JSON line with the ratios between consecutive sizes and the #16 targets (10M:
at most 12x the 1M time, peak RSS at most 12 GB); also writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _results import emit

REPO = Path(__file__).resolve().parents[1]
STAGES = ("reference", "validate", "features", "train", "evaluate", "benchmark", "register", "materialize")


def _stage(name: str, env: dict, log: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `accelops stage NAME` in a fresh process."""
    started = time.perf_counter()
    with open(log, "a") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "accelops"), "stage", name], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"stage {name} failed ({process.returncode}); see {log}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "accelops-scale-cache"))
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="accelops-scale-"))
    table: dict[int, dict[str, dict[str, float]]] = {}
    for size in args.sizes:
        folder = tmp / f"rows_{size}"
        folder.mkdir()
        raw = yaml.safe_load((REPO / "params.yaml").read_text())
        history = cache / f"history_{size}.parquet"
        raw["paths"] = {"workdir": str(folder / "work"), "history": str(history),
                        "feature_repo": str(REPO / "feature_repo")}
        raw["generate"]["rows"] = size
        (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        env = {**{k: v for k, v in os.environ.items() if k != "ACCELOPS_WORKDIR"},
               "ACCELOPS_PARAMS": str(folder / "params.yaml")}
        log = folder / "stages.log"
        table[size] = {}
        if not history.exists():
            seconds, mb = _stage("generate", env, log)
            table[size]["generate"] = {"seconds": round(seconds, 2), "peak_mb": round(mb)}
        for name in STAGES:
            print(f"rows={size}: {name}", file=sys.stderr, flush=True)
            seconds, mb = _stage(name, env, log)
            table[size][name] = {"seconds": round(seconds, 2), "peak_mb": round(mb)}
        table[size]["total"] = {"seconds": round(sum(v["seconds"] for k, v in table[size].items()
                                                     if k in STAGES), 2),
                                "peak_mb": max(v["peak_mb"] for k, v in table[size].items() if k in STAGES)}
    sizes = list(table)
    print(f"\n{'stage':<12}" + "".join(f"{f'{s:,} rows':>22}" for s in sizes))
    print(f"{'':<12}" + "".join(f"{'s':>10}{'peak MB':>12}" for _ in sizes))
    for name in (*STAGES, "total"):
        print(f"{name:<12}" + "".join(f"{table[s][name]['seconds']:>10.1f}{table[s][name]['peak_mb']:>12,.0f}"
                                      for s in sizes))
    ratios = {f"{b}/{a}": round(table[b]["total"]["seconds"] / table[a]["total"]["seconds"], 2)
              for a, b in zip(sizes, sizes[1:])}
    big = table.get(10_000_000)
    meets = None if big is None or 1_000_000 not in table else (
        big["total"]["seconds"] <= 12 * table[1_000_000]["total"]["seconds"] and big["total"]["peak_mb"] <= 12 * 1024)
    emit("scale", {"bench": "scale", "sizes": sizes, "baseline": {"what": f"the {sizes[0]}-row run",
                                                                  "seconds": table[sizes[0]]["total"]["seconds"]},
                   "figures": {str(s): v for s, v in table.items()}, "ratio": ratios,
                   "target": "10M rows: total time <= 12x the 1M run, peak RSS <= 12 GB (#16)",
                   "meets_target": meets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
