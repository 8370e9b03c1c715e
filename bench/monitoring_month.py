"""One simulated month of unattended monitoring: daily files, a drift from day 10, labels 7 days late.

    python bench/monitoring_month.py [--rows N] [--daily N] [--scenario covariate_shift|concept_drift]
                                     [--drift-day 10] [--label-delay 7] [--days 30] [--out FOLDER]

One synthetic history of 60 + --days days is generated (customers continue from the history into the
month, so per-customer window aggregates keep their meaning); a project is trained on its first 60
days (champion v1). Then each simulated day:
  1. the day's rows land in monitor.landing WITHOUT their label column, the scenario applied (and the
     labels redrawn by it) from --drift-day on;
  2. the labels of the day --label-delay days earlier land in monitor.labels;
  3. the monitoring step takes the landed file exactly once (the intake ledger), validates and scores
     it with @champion, measures drift against the champion's own training set, estimates AUC from the
     calibrated scores (CBPE), joins every window's landed labels (realised AUC), and lets the
     retraining policy decide at the simulated time (k of n windows, waiting for labels, decay,
     cooldown, daily budget);
  4. a retraining runs the training stages on history + the labelled rows of the windows since the last
     retraining, and the gate decides.

The library functions the monitoring and training flows call are run directly (no Prefect server),
with the decision time set to the simulated day. Writes FOLDER/monitoring_month.md (the timeline) and
FOLDER/monitoring_month.json; prints the timeline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _results import RESULTS, emit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

FAST_BENCH = {"batch_sizes": [1, 1024], "runtimes": ["eager", "onnxruntime"], "precisions": ["fp32"],
              "student": {"enabled": False}, "warmup": 2, "min_repeats": 20, "max_seconds_per_cell": 0.2}
HISTORY_DAYS = 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=120_000, help="history rows (60 days; the month lands at the "
                    "same daily rate)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--drift-day", type=int, default=10)
    ap.add_argument("--label-delay", type=int, default=7)
    ap.add_argument("--scenario", default="covariate_shift")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    import pandas as pd
    from helpers import write_params

    from accelops import runtime
    from accelops.config import load_params
    from accelops.data.generator import apply_scenario, generate
    from accelops.pipeline import batch_stages, stages

    runtime.apply_defaults()
    folder = Path(tempfile.mkdtemp(prefix="accelops-month-"))
    start = pd.Timestamp("2026-06-01", tz="UTC")
    params = load_params(write_params(
        folder, generate={"rows": args.rows, "days": HISTORY_DAYS, "start": str(start.date()), "seed": 21},
        train={"epochs": 6, "threads": 0, "patience": 2, "batch_size": 512}, validate={"min_rows": 50},
        evaluate={"min_slice_support": 200}, benchmark=FAST_BENCH,
        monitor={"reference_rows": 5000, "settle_seconds": 0,
                 "landing": str(folder / "landing"), "labels": str(folder / "labels")}))
    c = params.dataset
    t0 = time.perf_counter()
    total_days = HISTORY_DAYS + args.days
    full = generate(args.rows * total_days // HISTORY_DAYS, total_days, str(start.date()), seed=21).frame
    first = start + pd.Timedelta(days=HISTORY_DAYS)
    full[full[c.timestamp] < first].to_parquet(params.layout.history, index=False)
    daily = int((full[c.timestamp] >= first).sum() / args.days)
    for name in stages.TRAINING_STAGES:
        stages.STAGES[name](params)
    print(f"day  0: champion v{_champion(params)} trained on {args.rows} rows ({time.perf_counter() - t0:.0f} s)",
          flush=True)

    params.landing.mkdir(parents=True, exist_ok=True)
    params.labels.mkdir(parents=True, exist_ok=True)
    pending: dict[int, pd.DataFrame] = {}
    timeline: list[dict] = []
    for day in range(1, args.days + 1):
        scenario = args.scenario if day >= args.drift_day else "none"
        begin = first + pd.Timedelta(days=day - 1)
        frame = full[(full[c.timestamp] >= begin) & (full[c.timestamp] < begin + pd.Timedelta(days=1))]
        frame = apply_scenario(frame, scenario, seed=1000 + day).frame
        pending[day] = frame[[c.entity_id, c.timestamp, c.label]]
        _atomic(frame.drop(columns=[c.label]), params.landing / f"day{day:02d}.parquet")
        if (arrived := day - args.label_delay) in pending:
            _atomic(pending.pop(arrived), params.labels / f"labels_day{arrived:02d}.parquet")
        now = (first + pd.Timedelta(days=day, hours=1)).to_pydatetime()
        entry = {"day": day, "scenario": scenario, "labels_landed_for": arrived if arrived >= 1 else None}

        def handle(path, entry=entry, now=now):
            started = time.perf_counter()
            decision = batch_stages.check_batch(params, path, now=now)
            entry.update(_facts(decision), check_seconds=round(time.perf_counter() - started, 1))
            if decision.retrain:
                entry.update(_retrain(params, decision, stages, batch_stages))
            return decision

        landed = batch_stages.process_landed(params, handle)
        entry["files"] = len(landed)
        timeline.append(entry)
        print(_line(entry), flush=True)

    realised = json.loads(params.layout.window_performance.read_text())
    for entry in timeline:
        w = realised.get(f"day{entry['day']:02d}", {})
        entry["realised_auc"] = w.get("realised_auc")
        entry["labelled"] = w.get("labelled")
    errors = [e["estimated_auc"] - e["realised_auc"] for e in timeline
              if e.get("realised_auc") is not None and e.get("estimated_auc") is not None]
    summary = {"checks": len(timeline), "files": sum(e["files"] for e in timeline),
               "retrains": sum(1 for e in timeline if "gate" in e),
               "promotions": sum(1 for e in timeline if e.get("gate") == "PROMOTED"),
               "first_drifted_window": next((e["day"] for e in timeline if e.get("window_drifted")), None),
               "mean_abs_estimate_error": round(sum(map(abs, errors)) / len(errors), 4) if errors else None,
               "max_abs_estimate_error": round(max(map(abs, errors)), 4) if errors else None,
               "wall_seconds": round(time.perf_counter() - t0, 1)}
    _write_markdown(args.out / "monitoring_month.md", args, daily, timeline, summary)
    emit("monitoring_month", {"args": {k: str(v) for k, v in vars(args).items()}, "daily_rows": daily,
                              "folder": str(folder),
                              "summary": summary, "timeline": timeline}, args.out)
    return 0


def _atomic(frame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def _champion(params) -> str | None:
    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    champion = current_champion(tracking.connect(params), params.register_.model_name)
    return None if champion is None else str(champion.version)


def _facts(decision) -> dict:
    perf = decision.performance
    top = decision.attribution.impacts[0] if decision.attribution and decision.attribution.impacts else None
    return {"champion": decision.champion_version, "drift_share": round(decision.drift_share, 3),
            "drifted_columns": decision.drifted_columns, "window_drifted": decision.window_drifted,
            "prediction_drift": round(decision.prediction.effect, 3) if decision.prediction else None,
            "top_impact": f"{top.column} {top.mean_prediction_change:+.3f}" if top else None,
            "estimated_auc": round(perf.estimated_auc, 4) if perf else None,
            "labelled_new_rows": (decision.policy or {}).get("labelled_new_rows"),
            "decay": (decision.policy or {}).get("decay"),
            "retrain": decision.retrain, "reason": decision.reason.split(" [this window")[0]}


def _retrain(params, decision, stages, batch_stages) -> dict:
    """The training flow's stages on history + the labelled new rows, and the gate's decision."""
    started = time.perf_counter()
    data = batch_stages.retraining_data(params, decision.policy["batches"])
    stages.reference(params)
    try:
        report = stages.validate(params, data.path, data.new_after)
    except Exception as exc:          # the pipeline stopped the retraining (e.g. the label check): recorded
        return {"retrained": False, "retraining_rows": data.rows, "gate": "NOT RUN", "new_version": "-",
                "gate_reason": f"{type(exc).__name__}: {exc}"[:300],
                "retrain_seconds": round(time.perf_counter() - started, 1)}
    lq = report.label_quality
    for name in ("features", "train", "evaluate", "benchmark"):
        stages.STAGES[name](params)
    reg = stages.register(params, f"monitoring: {decision.reason[:200]}")
    stages.materialize(params)
    return {"retrained": True, "retraining_rows": data.rows, "retraining_new_rows": data.batch_rows,
            "retraining_unlabelled": data.unlabelled,
            "label_check": None if lq is None else f"{lq.rate:.3f} flagged vs {lq.reference_rate:.3f} ({lq.scope})",
            "gate": reg.status, "new_version": str(reg.version),
            "gate_reason": reg.reason[:300], "retrain_seconds": round(time.perf_counter() - started, 1)}


def _line(e: dict) -> str:
    if "drift_share" not in e:
        return f"day {e['day']:2}: no file processed"
    out = (f"day {e['day']:2} [{e['scenario'][:8]:8}] v{e['champion']} drift {e['drift_share']:.2f}"
           f"{'*' if e['window_drifted'] else ' '} pred {e['prediction_drift']:.2f} est AUC {e['estimated_auc']:.3f} "
           f"labelled {e['labelled_new_rows']} -> {'RETRAIN' if e['retrain'] else 'hold'}: {e['reason'][:110]}")
    if "gate" in e:
        out += f"\n        retrained on {e['retraining_rows']} rows -> v{e['new_version']} {e['gate']}: {e['gate_reason'][:120]}"
    return out


def _write_markdown(path: Path, args, daily: int, timeline: list[dict], summary: dict) -> None:
    lines = ["# One simulated month of monitoring", "",
             f"Generated by `python bench/monitoring_month.py` ({args.rows} history rows over {HISTORY_DAYS} days, "
             f"about {daily} rows a day, `{args.scenario}` from day {args.drift_day}, labels {args.label_delay} days "
             "late). Each day's file lands without labels; realised AUC is filled in when its labels land.", "",
             "| " + " | ".join(f"{k}: {v}" for k, v in summary.items()) + " |", "|" + "---|" * len(summary), "",
             "| day | data | champion | drift share | window drifted | prediction drift (sd) | top impact | "
             "estimated AUC | realised AUC | decision | gate |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in timeline:
        if "drift_share" not in e:
            lines.append(f"| {e['day']} | {e['scenario']} | | | | | | | | no file | |")
            continue
        realised = "" if e.get("realised_auc") is None else f"{e['realised_auc']:.4f}"
        gate = f"v{e['new_version']} {e['gate']}" if "gate" in e else ""
        lines.append(f"| {e['day']} | {e['scenario']} | v{e['champion']} | {e['drift_share']:.2f} | "
                     f"{'yes' if e['window_drifted'] else 'no'} | {e['prediction_drift']:.3f} | {e['top_impact']} | "
                     f"{e['estimated_auc']:.4f} | {realised} | {'RETRAIN' if e['retrain'] else 'hold'}: "
                     f"{e['reason']} | {gate} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
