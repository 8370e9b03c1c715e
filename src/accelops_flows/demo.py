"""`make run`: the whole pipeline on embedded defaults, in one process (imports paid once).

[1/4] generate the synthetic history (params.generate; skipped when already there)
[2/4] training flow -> first @champion
[3/4] new data lands in monitor.landing: the demo batch (params.monitor: rows, days, scenario;
      covariate_shift by default) as two files, one per half of its days
[4/4] monitoring flow over the landed files -> a drift window each -> the retraining policy (k of n)
      -> retraining -> gate decision
then a summary: champion, drift decision, reports, and the commands that open both UIs
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd

from accelops import runtime
from accelops.config import default_params_path, load_params
from accelops.pipeline import stages


def main() -> int:
    runtime.configure_logging()
    params_path = str(default_params_path().resolve())
    params = load_params(params_path)
    runtime.configure(params)
    from accelops_flows.monitoring import monitoring_flow  # after configure(): Prefect reads its env on import
    from accelops_flows.training import training_flow

    lay = params.layout
    started = time.perf_counter()
    if not lay.history.exists():
        print(f"[1/4] generating {params.generate.rows} rows over {params.generate.days} days -> {lay.history}")
        stages.generate(params)
    else:
        print(f"[1/4] using existing history {lay.history} (make clean to regenerate)")

    print("[2/4] training flow")
    first = training_flow(params_path=params_path, reason="demo: initial training")

    m = params.monitor
    end = pd.read_parquet(lay.history, columns=[params.dataset.timestamp])[params.dataset.timestamp].max()
    print(f"[3/4] new data: {m.batch_rows} rows over {m.batch_days} days from {end:%Y-%m-%d}, scenario "
          f"{m.batch_scenario}, landing in {params.landing} as two files")
    _land_demo_batch(params, end)
    if m.settle_seconds:          # files younger than this are left for the next run (a writer may be copying)
        print(f"      waiting {m.settle_seconds:g} s for them to settle (monitor.settle_seconds)")
        time.sleep(m.settle_seconds)

    print("[4/4] monitoring flow over the landed files")
    from accelops.errors import RetrainingFailed

    try:
        landed = monitoring_flow(params_path=params_path)
    except RetrainingFailed as exc:           # the pipeline's own verdict (e.g. the label check): reported
        print(f"  the files were checked, but {exc}")
        landed = {"landed": None, "results": {}}
    for f in landed["landed"] or []:
        print(f"  {f.file}: {f.state}: {f.outcome[:160]}")
    if landed["landed"] == []:
        print(f"  nothing new in {params.landing} (those files were processed before; make clean to start over)")
    monitored = next((r for r in landed["results"].values() if r["training"]), {"training": None})

    from accelops.registry.status import collect, render

    facts = collect(params)
    retrain = monitored["training"]
    summary = {
        "wall_seconds": round(time.perf_counter() - started, 1),
        "initial_training_stage_seconds": first["timings"],
        "retraining_stage_seconds": retrain["timings"] if retrain and "timings" in retrain else None,
        "initial_gate": first["register"].reason,
        "retrain_gate": retrain["register"].reason if retrain and "register" in retrain else None,
        "status": facts,
    }
    lay.demo_summary.write_text(json.dumps(summary, indent=2, default=str))
    print("\n" + "=" * 78)
    print(render(facts))
    print(f"\ninitial training stages (s): {first['timings']}")
    if summary["retraining_stage_seconds"]:
        print(f"retraining stages (s):       {summary['retraining_stage_seconds']}")
        print(f"retraining gate:             {summary['retrain_gate']}")
    print(f"total wall time: {summary['wall_seconds']} s")
    print(f"\nreports:   {lay.reports}  (validation.json, metrics.json, evaluation/*.png|json|md, monitoring/drift_*.html)")
    print(f"summary:   {lay.demo_summary}")
    print(f"MLflow UI: make ui-mlflow    (http://127.0.0.1:{runtime.UI_PORTS['mlflow']})")
    print(f"Prefect UI: make ui-prefect  (http://127.0.0.1:{runtime.UI_PORTS['prefect']}; flow runs of this demo "
          "are in its history)")
    print("status:    .venv/bin/accelops status --json")
    return 0


def _land_demo_batch(params, end: pd.Timestamp) -> list:
    """The demo batch, split in two by event time, written into the landing folder (atomically: a
    temporary name, then a rename, as a producer should)."""
    from accelops.data.generator import continuing_customers, generate

    m, ts, g = params.monitor, params.dataset.timestamp, params.generate
    frame = generate(m.batch_rows, m.batch_days, (end + pd.Timedelta(seconds=1)).isoformat(),
                     seed=g.seed + 1, scenario=m.batch_scenario,
                     customers=continuing_customers(m.batch_rows, m.batch_days, g.rows, g.days)).frame
    landing = params.landing
    landing.mkdir(parents=True, exist_ok=True)
    middle = frame[ts].min() + (frame[ts].max() - frame[ts].min()) / 2
    paths = []
    for part, rows in enumerate((frame[frame[ts] <= middle], frame[frame[ts] > middle]), 1):
        path = landing / f"{m.batch_scenario}_part{part}.parquet"
        tmp = path.with_suffix(".tmp")
        rows.to_parquet(tmp, index=False)
        tmp.replace(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    sys.exit(main())
