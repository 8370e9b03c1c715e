"""Drift statistics at scale: accelops.monitoring.stats against plain scipy tests over the same
columns and Evidently 0.7's default drift preset, on the same reference and current data.

    python bench/drift.py [--rows N] [--evidently-rows N]

Reference: the synthetic history (scenario none); current: the same size with covariate_shift
(the generator's manifest names the injected columns). Each path runs once after a warm-up on a
small sample; seconds and peak traced memory (tracemalloc) per path; the drifted columns of each,
compared on the injected ones. Prints a table, then one JSON line (bench/results/drift.json).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from _results import emit

TARGET_VS_SCIPY = 1.0          # accelops at most the time of plain scipy tests
TARGET_VS_EVIDENTLY = 14.0     # and at least 14x faster than Evidently's default preset


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--evidently-rows", type=int, default=None, help="rows per side for Evidently (default --rows)")
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    from accelops.config import load_params
    from accelops.data.generator import generate

    params = load_params()
    c, g = params.dataset, params.generate
    numeric, categorical = list(c.numeric_features), list(c.categorical_features)
    cols = numeric + categorical
    ref = generate(args.rows, g.days, g.start, seed=1).frame[cols]
    shifted = generate(args.rows, g.days, g.start, seed=2, scenario="covariate_shift")
    cur, injected = shifted.frame[cols], sorted(shifted.manifest["injected"])
    m = params.monitor

    def accelops_path(a, b):
        from accelops.monitoring.stats import column_drifts

        tests = column_drifts(a, b, numeric, categorical, m.column_threshold, m.alpha, m.severe_column_threshold)
        return sorted(t.column for t in tests if t.drifted)

    def scipy_path(a, b):
        """Plain scipy: KS per numeric column, chi-square per categorical one, p < 0.05 (no effect size)."""
        from scipy.stats import chi2_contingency, ks_2samp

        out = []
        for col in numeric:
            x, y = a[col].to_numpy(np.float64), b[col].to_numpy(np.float64)
            if ks_2samp(x[np.isfinite(x)], y[np.isfinite(y)]).pvalue < 0.05:
                out.append(col)
        for col in categorical:
            counts = np.array([a[col].value_counts().reindex(sorted(set(a[col]) | set(b[col])), fill_value=0),
                               b[col].value_counts().reindex(sorted(set(a[col]) | set(b[col])), fill_value=0)])
            if chi2_contingency(counts).pvalue < 0.05:
                out.append(col)
        return sorted(out)

    def evidently_path(a, b):
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        snap = Report([DataDriftPreset()]).run(reference_data=Dataset.from_pandas(a, data_definition=definition),
                                               current_data=Dataset.from_pandas(b, data_definition=definition))
        drifted = []
        for metric in snap.dict()["metrics"]:
            config = metric.get("config", {})
            if config.get("type", "").endswith("ValueDrift") and config.get("column") in cols:
                threshold = config.get("threshold")
                value = float(metric["value"])
                method = str(config.get("method", ""))
                # p-value tests drift below their threshold; distances at or above it
                is_p = "p_value" in method.lower() or "ks" in method.lower() or "chi" in method.lower() \
                    or "z" == method.lower()
                if threshold is not None and ((value < threshold) if is_p else (value >= threshold)):
                    drifted.append(config["column"])
        return sorted(drifted)

    ev_rows = args.evidently_rows or args.rows
    runs = {"accelops": (accelops_path, ref, cur), "scipy": (scipy_path, ref, cur),
            "evidently": (evidently_path, ref.head(ev_rows), cur.head(ev_rows))}
    figures: dict[str, dict] = {}
    for name, (fn, a, b) in runs.items():
        fn(a.head(2000), b.head(2000))                     # warm-up: imports and caches
        tracemalloc.start()
        started = time.perf_counter()
        drifted = fn(a, b)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        figures[name] = {"seconds": round(seconds, 2), "peak_traced_mb": round(peak, 1), "rows_per_side": len(a),
                         "drifted": drifted, "injected_found": sorted(set(injected) & set(drifted))}
        print(f"{name:10} {len(a):>9} rows/side  {seconds:8.2f} s  peak {peak:8.1f} MB  drifted {len(drifted)}: "
              f"{', '.join(drifted)}", flush=True)
    ev_scale = args.rows / ev_rows
    out = {"rows": args.rows, "columns": len(cols), "injected": injected, "figures": figures,
           "ratio_vs_scipy": round(figures["accelops"]["seconds"] / figures["scipy"]["seconds"], 3),
           "speedup_vs_evidently": round(figures["evidently"]["seconds"] * ev_scale / figures["accelops"]["seconds"], 1),
           "evidently_scaled_from_rows": ev_rows if ev_scale != 1 else None,
           "target": {"ratio_vs_scipy_at_most": TARGET_VS_SCIPY, "speedup_vs_evidently_at_least": TARGET_VS_EVIDENTLY},
           "same_injected_decisions": figures["accelops"]["injected_found"] == figures["evidently"]["injected_found"]}
    emit("drift", out, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
