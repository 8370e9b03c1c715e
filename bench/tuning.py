"""The Optuna search (train.tuning) against the params as written, on the default data and split.

    python bench/tuning.py [--rows N] [--trials T] [--no-pruning] [--folder DIR]

One run: params.yaml's pipeline (generate -> reference -> validate -> features) in a temporary
workdir, then, on the same training set and split, for two sets of written values: params.yaml's
(`default`) and deliberately poor ones (`mis-set`: lr 3e-4, dropout 0.4, embeddings of 2; does
the search find its way back?), the train stage with no search (the baseline) and with a T-trial
study (median pruning). For each: the network's validation and test AUC, the boosting candidate's,
which became the challenger, and the seconds; for the study: trials, pruned, the best values. The
test split is never seen by the search (trials are judged on the validation split), so the test
AUC gain is the honest one; its noise is the test AUC's 95% interval half-width (about 0.005 on
30k test rows). Prints a table, then one JSON line (also bench/results/tuning.json).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _results import emit

REPO = Path(__file__).resolve().parents[1]
MIS_SET = {"lr": 0.0003, "dropout": 0.4, "embedding_dim": 2}
NOISE = 0.005           # about the test AUC's 95% interval half-width on the default data's 30k test rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help="history rows (default: params.yaml generate.rows)")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--no-pruning", action="store_true", help="every trial runs all its epochs")
    ap.add_argument("--folder", default=None, help="work here (kept) instead of a temporary folder")
    args = ap.parse_args()

    import pandas as pd

    from accelops.config import load_params
    from accelops.evaluation.metrics import fast_auc
    from accelops.pipeline import stages
    from accelops.runtime import apply_defaults
    from accelops.training import model_folder

    apply_defaults()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="accelops-bench-tuning-"))
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["paths"] = {"workdir": str(folder / "work"), "history": str(folder / "history.parquet"),
                    "feature_repo": str(REPO / "feature_repo")}
    if args.rows:
        raw["generate"]["rows"] = args.rows

    written = dict(raw["train"])

    def params_with(trials: int, values: dict | None = None):
        raw["train"] = {**written, **(values or {})}
        raw["train"]["tuning"] = {**written.get("tuning", {}), "trials": trials, "pruning": not args.no_pruning}
        path = folder / "params.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        return load_params(path)

    params = params_with(0)
    for name in ("generate", "reference", "validate", "features"):
        stages.STAGES[name](params)
    label = params.dataset.label

    def measured(trials: int, values: dict | None = None) -> dict:
        p = params_with(trials, values)
        started = time.perf_counter()
        summary = stages.train(p)
        seconds = time.perf_counter() - started
        test = pd.read_parquet(p.layout.predictions)
        y = test[label].to_numpy()
        out = {"seconds": round(seconds, 1), "challenger": summary.challenger,
               "network_valid_auc": summary.valid_auc["network"], "boosting_valid_auc": summary.valid_auc["boosting"],
               "network_test_auc": fast_auc(y, test[model_folder.candidate_column("network")].to_numpy()),
               "boosting_test_auc": fast_auc(y, test[model_folder.candidate_column("boosting")].to_numpy()),
               "network_epochs": summary.epochs_run, "network_seconds": round(summary.seconds, 1)}
        if summary.tuning is not None:
            t = summary.tuning
            out["study"] = {"trials": len(t.trials), "pruned": sum(r.state == "PRUNED" for r in t.trials),
                            "failed": sum(r.state == "FAIL" for r in t.trials), "best_trial": t.best_number,
                            "best_values": t.best_values, "trial_seconds": t.seconds,
                            "epochs_run": sum(r.epochs for r in t.trials),
                            "epochs_unpruned": len(t.trials) * (p.train.epochs or 0)}
        return out

    scenarios = {"default": None, "mis-set": MIS_SET}
    results = {name: {"as_written": measured(0, v), "tuned": measured(args.trials, v)} for name, v in scenarios.items()}
    rows = len(pd.read_parquet(params.layout.training_set))
    print(f"{'':<20} {'net valid':>9} {'net test':>9} {'boost test':>10} {'challenger':>10} {'seconds':>8}", file=sys.stderr)
    for scenario, pair in results.items():
        for name, r in pair.items():
            print(f"{scenario + ' ' + name:<20} {r['network_valid_auc']:9.4f} {r['network_test_auc']:9.4f} "
                  f"{r['boosting_test_auc']:10.4f} {r['challenger']:>10} {r['seconds']:8.1f}", file=sys.stderr)
        pair["network_test_auc_gain"] = pair["tuned"]["network_test_auc"] - pair["as_written"]["network_test_auc"]
        pair["network_valid_auc_gain"] = pair["tuned"]["network_valid_auc"] - pair["as_written"]["network_valid_auc"]
    default, mis_set = results["default"], results["mis-set"]
    emit("tuning", {
        "bench": "tuning", "rows": rows, "trials": args.trials, "pruning": not args.no_pruning,
        "mis_set_values": MIS_SET,
        "baseline": {"what": "the train stage with the params as written (no search), same training set and split",
                     "default": default["as_written"], "mis-set": mis_set["as_written"]},
        "figures": results,
        "target": f"mis-set: the search's network test AUC gain > {NOISE} (it finds its way back); default: no "
                  f"loss beyond noise (gain > -{NOISE})",
        "meets_target": mis_set["network_test_auc_gain"] > NOISE and default["network_test_auc_gain"] > -NOISE,
    })
    if not args.folder:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
