"""Scale: every training stage at growing history sizes, with its wall time and peak memory.

    python bench/scale.py [--sizes 100000 1000000 [10000000]] [--stages NAME ...] [--cache DIR] [--report]

For each size: the demo's params.yaml with generate.rows = size (histories generated once into the
cache folder and reused), then each stage of the training pipeline run as DVC runs it (`accelops
stage NAME`, a fresh process each) with its wall time and the process's peak resident memory
(os.wait4's ru_maxrss; each figure includes ~3-5 s and ~0.5 GB of imports).

A size's work folder and its figures live in the cache folder (rows_SIZE/, figures.json, each stage's
figure saved as it ends with the commit it ran), so a long size can be run a few stages at a time
(`--stages reference validate`, then `--stages features train ...`: each stage reads the one before's
files); `--report` prints the table of the figures saved so far. Running every stage starts the size afresh. Prints the stage x size table and, last, one JSON
line with the ratios between consecutive sizes and the #16 targets (10M: at most 12x the 1M time, peak
RSS at most 12 GB); also writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def _commit() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "src"], capture_output=True, text=True)
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run_size(size: int, stages: list[str], cache: Path) -> dict[str, dict]:
    """Run `stages` at `size` rows in the cache's work folder; every stage's figure is saved as it ends."""
    folder = cache / f"rows_{size}"
    figures_file = folder / "figures.json"
    if list(stages) == list(STAGES):
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    history = cache / f"history_{size}.parquet"
    raw["paths"] = {"workdir": str(folder / "work"), "history": str(history),
                    "feature_repo": str(REPO / "feature_repo")}
    raw["generate"]["rows"] = size
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    env = {**{k: v for k, v in os.environ.items() if k != "ACCELOPS_WORKDIR"},
           "ACCELOPS_PARAMS": str(folder / "params.yaml")}
    log = folder / "stages.log"
    figures = json.loads(figures_file.read_text()) if figures_file.exists() else {}
    commit = _commit()
    if not history.exists():
        seconds, mb = _stage("generate", env, log)
        figures["generate"] = {"seconds": round(seconds, 2), "peak_mb": round(mb), "commit": commit}
    for name in stages:
        print(f"rows={size}: {name}", file=sys.stderr, flush=True)
        seconds, mb = _stage(name, env, log)
        figures[name] = {"seconds": round(seconds, 2), "peak_mb": round(mb), "commit": commit}
        figures_file.write_text(json.dumps(figures, indent=1))
        print(f"rows={size}: {name} {seconds:.1f} s, peak {mb:,.0f} MB", file=sys.stderr, flush=True)
    return figures


def _saved(size: int, cache: Path) -> dict[str, dict]:
    figures = cache / f"rows_{size}" / "figures.json"
    return json.loads(figures.read_text()) if figures.exists() else {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "accelops-scale-cache"))
    ap.add_argument("--report", action="store_true", help="run nothing: the table of the figures saved so far")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    table = {size: _saved(size, cache) if args.report else run_size(size, args.stages, cache) for size in args.sizes}
    for figures in table.values():
        done = [k for k in STAGES if k in figures]
        if done:
            figures["total"] = {"seconds": round(sum(figures[k]["seconds"] for k in done), 2),
                                "peak_mb": max(figures[k]["peak_mb"] for k in done),
                                "stages": len(done)}
    sizes = list(table)
    blank = {"seconds": float("nan"), "peak_mb": float("nan")}
    print(f"\n{'stage':<12}" + "".join(f"{f'{s:,} rows':>22}" for s in sizes))
    print(f"{'':<12}" + "".join(f"{'s':>10}{'peak MB':>12}" for _ in sizes))
    for name in (*STAGES, "total"):
        cells = [table[s].get(name, blank) for s in sizes]
        print(f"{name:<12}" + "".join(f"{c['seconds']:>10.1f}{c['peak_mb']:>12,.0f}" for c in cells))
    complete = [s for s in sizes if table[s].get("total", {}).get("stages") == len(STAGES)]
    ratios = {f"{b}/{a}": round(table[b]["total"]["seconds"] / table[a]["total"]["seconds"], 2)
              for a, b in zip(complete, complete[1:])}
    big, base = table.get(10_000_000), table.get(1_000_000)
    meets = None if 10_000_000 not in complete or 1_000_000 not in complete else (
        big["total"]["seconds"] <= 12 * base["total"]["seconds"] and big["total"]["peak_mb"] <= 12 * 1024)
    emit("scale", {"bench": "scale", "sizes": sizes, "complete_sizes": complete,
                   "baseline": {"what": f"the {sizes[0]}-row run",
                                "seconds": table[sizes[0]].get("total", blank)["seconds"]},
                   "figures": {str(s): v for s, v in table.items()}, "ratio": ratios,
                   "target": "10M rows: total time <= 12x the 1M run, peak RSS <= 12 GB (#16)",
                   "meets_target": meets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
