"""Drift detection quality over the generator's scenarios: detection rate, false alarms on unchanged
windows at each size, and whether the drifted feature or slice is named.

    python bench/drift_quality.py [--seeds 20] [--sizes 1000 10000 100000] [--reference-rows 100000]
                                  [--false-alarm-sizes 1000000] [--estimate-rows 10000]

The reference is one synthetic history; each current window is generated over the same period with
another seed (so `none` windows are unchanged data, and a flag on them is a false alarm) and a
scenario applied. A window is detected when the drift verdict of accelops.monitoring.drift says the
window drifted. Named correctly: covariate_shift and missing_spike, the most drifted column (by its
distance or its change in missing share) is an injected one; slice_shift, the most drifted slice is region=north; new_category, channel drifted.
`--false-alarm-sizes`: `none` windows only at these sizes (false alarms at a million rows).
Performance estimation: a gradient-boosting model fit on the reference scores an `--estimate-rows`
window of each scenario (and concept_drift); the CBPE estimate from its scores is compared with the
AUC its labels give (mean and largest absolute error over the seeds).
Prints the table, then one JSON line (bench/results/drift_quality.json).
"""

from __future__ import annotations

import argparse
import time

from _results import emit

SCENARIOS = ("none", "covariate_shift", "slice_shift", "new_category", "missing_spike")
TARGETS = {"detection_at_least": 0.95, "false_alarms_at_most": 0.05, "named_at_least": 0.90}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--reference-rows", type=int, default=100_000)
    ap.add_argument("--false-alarm-sizes", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--estimate-rows", type=int, default=10_000)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    from accelops.config import load_params
    from accelops.data.generator import generate
    from accelops.monitoring.drift import detect_drift

    params = load_params()
    c, g, m = params.dataset, params.generate, params.monitor
    cols = list(c.numeric_features) + list(c.categorical_features)
    reference = generate(args.reference_rows, g.days, g.start, seed=10_000).frame
    table: dict[str, dict[str, dict]] = {}
    started = time.perf_counter()
    cells = [(s, size) for s in SCENARIOS for size in args.sizes] + \
        [("none", size) for size in args.false_alarm_sizes if size not in args.sizes]
    for scenario, size in cells:
        flagged = named = 0
        for seed in range(args.seeds):
            window = generate(size, g.days, g.start, seed=seed, scenario=scenario)
            result = detect_drift(reference, window.frame[cols + [x for x in c.slices if x not in cols]], c, m)
            if not result.retrain:
                continue
            flagged += 1
            named += _named(scenario, result, window.manifest)
        table.setdefault(scenario, {})[str(size)] = {
            "windows": args.seeds, "flagged": flagged, "rate": flagged / args.seeds,
            "named": None if scenario == "none" else (named / flagged if flagged else None)}
        cell = table[scenario][str(size)]
        print(f"{scenario:16} {size:>8} rows: flagged {flagged:>2}/{args.seeds}"
              + ("" if cell["named"] is None else f", named correctly {cell['named']:.0%}"), flush=True)
    false_alarms = {size: table["none"][size]["rate"] for size in table["none"]}
    detection = {s: {size: cell["rate"] for size, cell in table[s].items()} for s in SCENARIOS if s != "none"}
    estimates = _estimation(reference, c, g, args.seeds, args.estimate_rows)
    out = {"seeds": args.seeds, "sizes": args.sizes, "reference_rows": args.reference_rows,
           "seconds": round(time.perf_counter() - started, 1), "table": table, "false_alarms": false_alarms,
           "detection": detection, "estimation": estimates, "targets": TARGETS,
           "params": {"column_threshold": m.column_threshold, "alpha": m.alpha,
                      "drift_share_threshold": m.drift_share_threshold,
                      "severe_column_threshold": m.severe_column_threshold}}
    emit("drift_quality", out, args.results)
    return 0


def _estimation(reference, c, g, seeds: int, rows: int) -> dict:
    """CBPE's estimated AUC against the realised AUC, per scenario, for a model fit on the reference."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from accelops.data.generator import generate
    from accelops.evaluation.metrics import fast_auc
    from accelops.monitoring.performance import cbpe_auc

    import pandas as pd

    cols = list(c.numeric_features) + list(c.categorical_features)

    def design(frame):
        x = frame[cols].copy()
        for col in c.categorical_features:
            x[col] = pd.Categorical(x[col].astype(str), categories=sorted(map(str, c.categorical_features[col])))
        return x

    model = HistGradientBoostingClassifier(max_iter=200, categorical_features="from_dtype", random_state=0)
    model.fit(design(reference), reference[c.label].to_numpy(int))
    out = {}
    for scenario in (*SCENARIOS, "concept_drift"):
        errors = []
        for seed in range(seeds):
            frame = generate(rows, g.days, g.start, seed=500 + seed, scenario=scenario).frame
            p = model.predict_proba(design(frame))[:, 1]
            errors.append(cbpe_auc(p) - fast_auc(frame[c.label].to_numpy(int), p))
        e = np.asarray(errors)
        out[scenario] = {"mean_abs_error": round(float(np.abs(e).mean()), 4), "max_abs_error": round(float(
            np.abs(e).max()), 4), "mean_error": round(float(e.mean()), 4)}
        print(f"estimate {scenario:16} {rows} rows: mean |estimated - realised AUC| {out[scenario]['mean_abs_error']:.4f}"
              f" (largest {out[scenario]['max_abs_error']:.4f}, mean signed {out[scenario]['mean_error']:+.4f})",
              flush=True)
    return out


def _named(scenario: str, result, manifest: dict) -> bool:
    drifted = [t for t in result.columns if t.drifted]
    if scenario == "slice_shift":
        top = result.slices[0] if result.slices else None
        return top is not None and (top.slice, top.value) == ("region", "north") and bool(top.drifted_columns)
    if scenario == "new_category":
        return "channel" in result.drifted_columns
    if not drifted:
        return False
    top = max(drifted, key=lambda t: max(t.effect, t.missing_delta))     # distance or missing-share change
    return top.column in manifest.get("injected", {})


if __name__ == "__main__":
    raise SystemExit(main())
