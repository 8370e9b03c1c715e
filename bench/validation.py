"""Validation cost: the full suite (contract rules + reference-profile bounds) on N rows the way the
gate runs it (a cheap pass-or-fail pass over every rule, counts and observations only for the rules
that failed, then the failing rows located with pandas) against the same suite in Great
Expectations' COMPLETE result format (every failing row's index and value from GE), in one run.

    python bench/validation.py [--rows N] [--repeats R]

The data has defects planted (nulls above the tolerated rate, out-of-range values, an unseen
category, duplicate keys), so both paths must find failing rows; the rows they name are compared.
Prints a table, then one JSON line (bench/results/validation.json).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _results import emit

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    from accelops.config import load_params
    from accelops.data import io
    from accelops.data.generator import generate
    from accelops.validation.expectations import run_suite
    from accelops.validation.profile import build_profile
    from accelops.validation.quarantine import row_failures

    params = load_params(REPO / "params.yaml")
    c, rules = params.dataset, params.validate_
    g = params.generate
    reference = generate(min(args.rows, 200_000), g.days, g.start, seed=11).frame
    profile = build_profile(reference, c, "reference")
    df = io.conform(generate(args.rows, g.days, g.start, seed=12).frame, c, "bench")
    rng = np.random.default_rng(0)
    n = len(df)
    df.loc[rng.choice(n, n * 3 // 100, replace=False), "data_usage_gb"] = np.nan       # 3% > 2% tolerated
    df.loc[rng.choice(n, 500, replace=False), "satisfaction_score"] = 9                  # outside [1, 5]
    df.loc[rng.choice(n, 300, replace=False), "plan"] = "platinum"                       # unseen category
    dup = rng.choice(n - 1, 200, replace=False)
    df.loc[dup + 1, ["customer_id", "event_timestamp"]] = df.loc[dup, ["customer_id", "event_timestamp"]].to_numpy()

    t_ours, t_complete = [], []
    for _ in range(args.repeats):           # alternate the two paths; best of the repeats for each
        t = time.perf_counter()
        report = run_suite(df, c, rules, "bench", profile)
        reasons = row_failures(df, c, report.failures)
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        complete = run_suite(df, c, rules, "bench", profile, result_format={"result_format": "COMPLETE"})
        t_complete.append(time.perf_counter() - t)
        del complete
    ours = set(np.flatnonzero(reasons.ne("").to_numpy()))
    runs = {"ours": t_ours, "complete": t_complete}
    t_ours, t_complete = min(t_ours), min(t_complete)

    # the rows GE's COMPLETE format names for the same failed row-level rules (located again, untimed)
    import great_expectations as gx

    from accelops.validation.expectations import build_expectations

    ctx = gx.get_context(mode="ephemeral")
    batch = ctx.data_sources.add_pandas("b").add_dataframe_asset("f").add_batch_definition_whole_dataframe("w")
    failed = {(f["column"], f["rule"], tuple(f["columns"])) for f in report.failures}
    exps = [e for e in build_expectations(c, rules, profile)
            if (e.configuration.kwargs.get("column"), e.expectation_type,
                tuple(e.configuration.kwargs.get("column_list", []))) in failed]
    suite = ctx.suites.add(gx.ExpectationSuite(name="failed", expectations=exps))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    res = vd.run(batch_parameters={"dataframe": df}, result_format={"result_format": "COMPLETE"})
    theirs: set = set()
    for r in res.results:
        theirs |= set((r.result or {}).get("unexpected_index_list") or [])
    key = [c.entity_id, c.timestamp]
    if any(f["rule"] == "expect_compound_columns_to_be_unique" for f in report.failures):
        # GE lists every row of a duplicated key; the gate keeps the first and quarantines the rest
        ours |= set(np.flatnonzero(df.duplicated(key, keep=False).to_numpy()))
    ratio = t_ours / t_complete
    print(f"{'path':44} {'seconds':>8}")
    print(f"{'accelops: pass/fail, details for failed, rows':44} {t_ours:>8.2f}")
    print(f"{'Great Expectations COMPLETE result format':44} {t_complete:>8.2f}")
    print(f"ratio {ratio:.3f} (target <= {TARGET}); {len(report.failures)} error rules failed, "
          f"{len(report.warnings)} warnings; failing rows: accelops {len(ours)}, GE COMPLETE {len(theirs)}, "
          f"same rows: {ours == theirs}")
    emit("validation", {
        "bench": "validation", "rows": n, "expectations": report.evaluated,
        "baseline": {"complete_seconds": t_complete}, "runs_seconds": runs,
        "figures": {"basic_plus_locate_seconds": t_ours, "failed_rules": [f"{f['column']}:{f['rule']}" for f in report.failures],
                    "failing_rows": len(ours), "ge_complete_failing_rows": len(theirs), "same_rows": ours == theirs},
        "ratio": ratio, "target": f"<= {TARGET}", "met": ratio <= TARGET and ours == theirs,
    }, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
