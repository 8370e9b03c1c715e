"""A stage's pieces on a local Dask cluster against the same pieces in process (accelops.fanout): the
label check's folds (the reference and validate stages), the suite's row-wise rules per entity partition
(validate), the window aggregates and the as-of join per entity partition (features) and the evaluation's
slice groups, on the same rows: seconds and whether the outputs are identical.

    python bench/dask_stages.py [--rows N] [--workers W]

The label check as the stages run it (folds sized by the rows, fit on at most validate.label_fit_rows,
every row scored out of fold); the suite as the validate stage builds it without the reference bounds
(no Data Docs); the default windows over the rows and the as-of join of every row against them (7-day
TTL, entity rows an hour after their events); the slices on its out-of-fold probabilities with the default contract's
slice columns, their pairwise crosses and evaluate.bootstrap resamples, over all N rows (the evaluate
stage slices only the test split). The Dask timings include
scattering the inputs to the workers, not the cluster's start (one cluster serves a whole flow run).
On 2 cores Dask has no room to win; #16's target is Dask at most 1.2x in process, with identical outputs.
Prints a table, then one JSON line (also bench/results/dask_stages.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from _results import emit

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from accelops import runtime
    from accelops.config import OrchestrationParams, Params
    from accelops.data.generator import generate
    from accelops.data import io
    from accelops.evaluation import metrics, slices
    from accelops.fanout import fanout
    from accelops.features.asof import ViewSpec, match_positions
    from accelops.features.windows import window_features
    from accelops.validation.expectations import run_suite
    from accelops.validation.label_quality import label_quality, out_of_fold_proba

    params = Params.model_validate(yaml.safe_load((REPO / "params.yaml").read_text()))
    c, v, e, g = params.dataset, params.validate_, params.evaluate, params.generate
    df = generate(args.rows, g.days, g.start, seed=5).frame
    y = df[c.label].to_numpy(int)
    print(f"rows={args.rows} workers={args.workers} cores={runtime.available_cores()}", file=sys.stderr)

    def label_check(fan):
        return label_quality(df, c, v.label_folds, params.train.threads, params.train.seed, v.label_fit_rows, fan)

    p = out_of_fold_proba(df, c, v.label_folds, params.train.threads, params.train.seed, fit_rows=v.label_fit_rows)
    overall = metrics.fast_auc(y, p)

    def slice_check(fan):
        return slices.slice_report(df, y, p, c.slices, e.min_slice_support, e.slice_tolerance, overall,
                                   e.bootstrap, e.slice_crosses, params.train.seed, fan)

    conformed = io.conform(df, c, "bench")
    entities = df[[c.entity_id, c.timestamp]].assign(**{c.timestamp: df[c.timestamp] + pd.Timedelta(hours=1)})
    spec = ViewSpec("bench", "-", c.timestamp, (c.entity_id,), (), pd.Timedelta(days=7))

    def suite(fan):
        return run_suite(conformed, c, v, "bench", fan=fan if fan.workers > 1 else None)

    def features(fan):
        return (window_features(df, c.entity_id, c.timestamp, params.features.windows, fan),
                match_positions(entities, df, spec, c.timestamp, fan))

    def same_features(a, b):
        return a[0].equals(b[0]) and np.array_equal(a[1], b[1])

    figures = {}
    for name, work, same in (("label_check", label_check, lambda a, b: a[0] == b[0] and np.array_equal(a[1], b[1])),
                             ("suite", suite, lambda a, b: a == b),
                             ("features", features, same_features),
                             ("slices", slice_check, lambda a, b: a == b)):
        timed = {}
        for runner in ("threads", "dask"):
            with fanout(OrchestrationParams(task_runner=runner, dask_workers=args.workers)) as fan:
                started = time.perf_counter()
                out = work(fan)
                timed[runner] = (round(time.perf_counter() - started, 2), out)
        figures[name] = {"threads_seconds": timed["threads"][0], "dask_seconds": timed["dask"][0],
                         "ratio": round(timed["dask"][0] / timed["threads"][0], 3),
                         "identical": bool(same(timed["threads"][1], timed["dask"][1]))}
    print(f"{'piece':<12} {'threads s':>9} {'dask s':>7} {'ratio':>6} {'identical':>9}", file=sys.stderr)
    for name, f in figures.items():
        print(f"{name:<12} {f['threads_seconds']:9.1f} {f['dask_seconds']:7.1f} {f['ratio']:6.2f} "
              f"{str(f['identical']):>9}", file=sys.stderr)
    threads_total = sum(f["threads_seconds"] for f in figures.values())
    dask_total = sum(f["dask_seconds"] for f in figures.values())
    ratio = round(dask_total / threads_total, 3)
    emit("dask_stages", {
        "bench": "dask_stages", "rows": args.rows, "workers": args.workers, "cores": runtime.available_cores(),
        "baseline": {"what": "the same pieces in process, one after another", "seconds": threads_total},
        "figures": figures, "ratio": ratio,
        "target": f"dask / in process <= {TARGET} over all pieces, identical outputs",
        "meets_target": ratio <= TARGET and all(f["identical"] for f in figures.values()),
    })
    return 0


if __name__ == "__main__":         # Dask's worker processes import this module again: no work outside main
    sys.exit(main())
