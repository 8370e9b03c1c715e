"""Precision and recall of confident-learning label-error flags on the generator's label_noise
scenario (its manifest is the ground truth), at 2%, 5% and 10% flipped labels.

    python bench/label_noise.py [--rows N]

Baseline in the same run: the flag rate on the same data with no flips (the irreducible noise of
a Bernoulli label flags rows too). Prints a table, then one JSON line (bench/results/label_noise.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _results import emit
REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    args = ap.parse_args()

    from accelops.config import load_params
    from accelops.data.generator import generate
    from accelops.validation.label_quality import label_quality

    params = load_params(REPO / "params.yaml")
    contract, days, start = params.dataset, params.generate.days, params.generate.start
    rows = []
    for flip in (0.0, 0.02, 0.05, 0.10):
        g = generate(args.rows, days, start, seed=4, scenario="label_noise" if flip else "none",
                     severity=flip / 0.05 if flip else 1.0)
        t = time.perf_counter()
        summary, flags = label_quality(g.frame, contract)
        truth = np.zeros(len(flags), bool)
        if flip:
            truth[g.manifest["flipped_rows"]] = True
        tp = int((flags & truth).sum())
        rows.append({"flip_rate": flip, "flag_rate": summary.rate, "flagged": summary.flagged,
                     "precision": tp / max(summary.flagged, 1) if flip else None,
                     "recall": tp / max(int(truth.sum()), 1) if flip else None,
                     "seconds": time.perf_counter() - t})
    base = rows[0]["flag_rate"]
    print(f"{'flipped':>8} {'flag rate':>10} {'excess':>8} {'precision':>10} {'recall':>8} {'s':>6}")
    for r in rows:
        p = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        rc = "-" if r["recall"] is None else f"{r['recall']:.3f}"
        print(f"{r['flip_rate']:>8.0%} {r['flag_rate']:>10.3f} {r['flag_rate'] - base:>+8.3f} {p:>10} {rc:>8} "
              f"{r['seconds']:>6.1f}")
    out = {"bench": "label_noise", "rows": args.rows, "baseline": {"clean_flag_rate": base},
           "figures": rows, "ratio": {f"excess_at_{r['flip_rate']:.0%}": r["flag_rate"] - base for r in rows[1:]},
           "target": "excess flag rate above validate.max_excess_label_issue_rate (0.03) at >= 5% flips"}
    emit("label_noise", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
