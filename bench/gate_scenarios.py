"""The promotion gate's decisions on real trainings: one project, one registry, nine candidates.

    python bench/gate_scenarios.py [--rows N] [--out FOLDER]

Each scenario trains a real candidate with the pipeline's stages (validate -> ... -> register) in
one project folder, so every decision is taken against the champion the earlier scenarios left:

    first_model     weak settings (1 epoch, 25 boosting trees): the first champion, floors only; the
                    network is worse than its baseline here, so the baseline is the challenger
    better          default settings on the same data: better than the champion
    tie             the same artifacts registered again: a gain of exactly 0
    worse_overall   weak settings again
    worse_on_slice  region=north's labels inverted in the training and validation windows (a regional
                    feed that encoded churn the other way round; the label check switched off so the
                    data reaches training); the test window is clean
    miscalibrated   temperature scaling replaced by an over-confident T = 0.25 (a calibration bug)
    unfair          evaluate.sensitive = [plan] (groups that churn at different rates) under a policy
                    ceiling of 0.02 on the largest group gap
    slo_miss        an online objective no variant can meet (p99 <= 0.001 ms at batch 1)
    baseline_wins   a crippled network (1 epoch, lr 1e-5) beside the default gradient-boosting model: the
                    baseline is the challenger and meets the same rules against the champion

then `accelops history`, `accelops rollback --reason ...` and `accelops history` again, and the model
card of the boosting version. Writes FOLDER/gate_scenarios.md (every decision record as a table)
and FOLDER/gate_scenarios.json; prints the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import RESULTS, emit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

WEAK = {"train": {"epochs": 1, "baseline_max_iter": 25, "patience": 1}}
FAST_BENCH = {"batch_sizes": [1, 1024], "runtimes": ["eager", "onnxruntime"], "precisions": ["fp32", "int8"],
              "student": {"enabled": False}, "warmup": 2, "min_repeats": 20, "max_seconds_per_cell": 0.2}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    from helpers import write_params

    from accelops import runtime
    from accelops.config import load_params
    from accelops.pipeline import stages

    runtime.apply_defaults()
    folder = Path(tempfile.mkdtemp(prefix="accelops-gate-"))
    base = {"generate": {"rows": args.rows, "days": 120, "seed": 11},
            "train": {"epochs": 6, "threads": 0, "patience": 2, "batch_size": 512},
            "validate": {"min_rows": 50}, "monitor": {"batch_rows": 3000}, "benchmark": FAST_BENCH,
            "evaluate": {"min_slice_support": 200}}
    records: list[dict] = []

    def params_with(**overrides):
        merged = {k: dict(v) for k, v in base.items()}
        for section, values in overrides.items():
            merged.setdefault(section, {}).update(values)
        return load_params(write_params(folder, **merged))

    def run(name: str, params, data_changed: bool = False, patch=contextlib.nullcontext):
        started = time.perf_counter()
        names = stages.TRAINING_STAGES[:-1] if data_changed or not records else ("train", "evaluate", "benchmark",
                                                                                "register")
        with patch():
            for stage in names:
                stages.STAGES[stage](params)
        _record(records, params, name, time.perf_counter() - started)

    stages.generate(params_with())
    clean = params_with().layout.history
    import pandas as pd

    clean_frame = pd.read_parquet(clean)

    run("first_model", params_with(**WEAK), data_changed=True)
    run("better", params_with())
    register_again = params_with()
    stages.register(register_again)
    _record(records, register_again, "tie", 0.0)
    run("worse_overall", params_with(**WEAK))

    shifted = _north_inverted_in_training_windows(clean_frame, params_with())
    shifted.to_parquet(clean, index=False)
    run("worse_on_slice", params_with(validate={"label_check": False}), data_changed=True)
    clean_frame.to_parquet(clean, index=False)
    run("miscalibrated", params_with(train={"seed": 43}), data_changed=True, patch=_overconfident)
    run("unfair", params_with(train={"seed": 44}, evaluate={"sensitive": ["plan"]},
                              register={"gate": {"max_fairness_gap": 0.02}}))
    run("slo_miss", params_with(train={"seed": 45}, benchmark={"online_p99_ms": 0.001}))
    run("baseline_wins", params_with(train={"epochs": 1, "lr": 1e-5, "patience": 1, "seed": 46}))

    p = params_with()
    cli = [str(Path(sys.executable).parent / "accelops")]
    history_before = _cli(cli + ["history", "--params", str(p.root / "params.yaml")])
    rollback = _cli(cli + ["rollback", "--reason", "gate scenarios: back to the champion before the last promotion",
                           "--params", str(p.root / "params.yaml")])
    history_after = _cli(cli + ["history", "--params", str(p.root / "params.yaml")])
    boosting = [r for r in records if r["challenger"] == "boosting"]
    card = _model_card(p, next((r for r in boosting if r["status"] == "PROMOTED"), boosting[-1])["version"])
    _write_markdown(args.out / "gate_scenarios.md", records, history_before, rollback, history_after, card)
    emit("gate_scenarios", {"rows": args.rows, "folder": str(folder),
                            "decisions": [{k: r[k] for k in ("scenario", "status", "version", "challenger",
                                                             "test_auc", "failed_rules", "seconds")}
                                          for r in records]}, args.out)
    return 0


def _record(records: list[dict], params, name: str, seconds: float) -> None:
    """The scenario's decision (from registration.json and training.json) appended to `records` and printed."""
    reg = json.loads(params.layout.registration_file.read_text())
    training = json.loads(params.layout.training_summary.read_text())
    failed = [r["rule"] for r in reg["rules"] if r["verdict"] == "fail"]
    records.append({"scenario": name, "status": reg["status"], "version": reg["version"],
                    "challenger": training["challenger"], "valid_auc": training["valid_auc"],
                    "test_auc": reg["challenger_auc"], "champion_version": reg["champion_version"],
                    "comparison": reg["comparison"], "failed_rules": failed, "reason": reg["reason"],
                    "rules": reg["rules"], "seconds": round(seconds, 1)})
    print(f"{name:15} v{reg['version']:>2} {reg['status']:9} {training['challenger']:8} "
          f"AUC {reg['challenger_auc']:.4f}  failed: {', '.join(failed) or '-'}", flush=True)


def _north_inverted_in_training_windows(frame, params):
    """region=north's labels inverted before the test window (features, keys and other regions untouched)."""
    from accelops.training.split import time_split

    ts, label = params.dataset.timestamp, params.dataset.label
    cutoff = frame.loc[time_split(frame, ts, params.train.split) == "test", ts].min()
    out = frame.copy()
    rows = (out["region"] == "north") & (out[ts] < cutoff)
    out.loc[rows, label] = 1 - out.loc[rows, label]
    return out


@contextlib.contextmanager
def _overconfident():
    """Temperature scaling replaced by T = 0.25 (logits x4: over-confident) for this training only."""
    import accelops.evaluation.calibration as cal

    original = cal.fit_temperature
    cal.fit_temperature = lambda y, logits: 0.25
    try:
        yield
    finally:
        cal.fit_temperature = original


def _cli(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    print("$ accelops " + " ".join(cmd[1:3]) + "\n" + out.stdout, flush=True)
    return out.stdout


def _model_card(params, version: str) -> str:
    import mlflow

    from accelops.registry import tracking

    client = tracking.connect(params)
    run_id = client.get_model_version(params.register_.model_name, version).run_id
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card/model_card.md")).read_text()


def _num(value) -> str:
    return "" if value is None else f"{value:.4g}"


def _write_markdown(path: Path, records, history_before, rollback, history_after, card) -> None:
    lines = ["# Promotion gate: decision records from real trainings", "",
             "Generated by `python bench/gate_scenarios.py` (one project and registry; each decision is "
             "taken against the champion the earlier scenarios left).", "",
             "| scenario | version | status | challenger | test AUC | vs champion (gain, 95% CI) | failed rules |",
             "|---|---|---|---|---|---|---|"]
    for r in records:
        c = r["comparison"]
        vs = "no champion" if c is None else f"v{r['champion_version']}: {c['gain']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}]"
        lines.append(f"| {r['scenario']} | v{r['version']} | {r['status']} | {r['challenger']} | "
                     f"{r['test_auc']:.4f} | {vs} | {', '.join(r['failed_rules']) or '-'} |")
    for r in records:
        lines += ["", f"## {r['scenario']}: v{r['version']} {r['status']}", "", f"Reason: {r['reason']}", "",
                  f"Validation AUC by candidate: {r['valid_auc']}", "",
                  "| rule | verdict | value | bound | detail |", "|---|---|---|---|---|"]
        lines += [f"| {x['rule']} | {x['verdict']} | {_num(x['value'])} | {_num(x['bound'])} | {x['detail']} |"
                  for x in r["rules"]]
    lines += ["", "## accelops history", "", "```", history_before.rstrip(), "```", "",
              "## accelops rollback", "", "```", rollback.rstrip(), "```", "", "```", history_after.rstrip(), "```",
              "", "## Model card of the boosting version", "", card]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
