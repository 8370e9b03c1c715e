"""The evaluation of a challenger on the test split: metrics with intervals, threshold, calibration,
slices, fairness, robustness and behaviour, returned as the typed `EvaluationReport`
(accelops.evaluation.schema), the promotion gate's input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from accelops.config import Contract, EvaluateParams
from accelops.evaluation import behaviour, calibration, fairness, metrics, plots, robustness, slices
from accelops.evaluation.schema import EvaluationReport
from accelops.fanout import Fanout
log = logging.getLogger("accelops.evaluation")
MIN_AUDIT_ROWS = 20           # held-out rows below which a membership attack's AUC says nothing


def evaluate_model(test: pd.DataFrame, valid: pd.DataFrame, contract: Contract, params: EvaluateParams,
                   out_dir: Path, temperature: float = 1.0,
                   score: Callable[[pd.DataFrame], np.ndarray] | None = None,
                   fgsm: Callable[[pd.DataFrame, np.ndarray, float], np.ndarray] | None = None,
                   seed: int = 0, members: pd.DataFrame | None = None,
                   non_members: pd.DataFrame | None = None, fan: Fanout | None = None) -> EvaluationReport:
    """`test`/`valid` carry the label, `logit` (raw) and `prediction` (served, calibrated) columns;
    `score` re-scores a frame of features (robustness, behaviour, membership), `fgsm` attacks the
    network; `members` (training rows with their label) are attacked against `non_members` (rows of the
    training period held out of fitting); the slice groups run on `fan` (accelops.fanout)."""
    y, p = test[contract.label].to_numpy(int), test["prediction"].to_numpy(float)
    yv, pv = valid[contract.label].to_numpy(int), valid["prediction"].to_numpy(float)

    chosen = metrics.choose_threshold(yv, pv, params.cost_fp, params.cost_fn)
    overall = metrics.overall_metrics(y, p)
    log.info("bootstrap intervals (%d resamples)", params.bootstrap)
    intervals = metrics.bootstrap_ci(y, p, params.bootstrap, seed=seed, threshold=chosen["threshold"])

    raw = calibration.calibrated(test["logit"].to_numpy(float), 1.0)
    calib = {"temperature": temperature,
             "before": calibration.calibration_errors(y, raw, params.ece_bins),
             "after": calibration.calibration_errors(y, p, params.ece_bins),
             "curve_before": calibration.reliability(y, raw, params.ece_bins),
             "curve_after": calibration.reliability(y, p, params.ece_bins)}

    log.info("slices: %s%s", ", ".join(contract.slices), " + pairwise crosses" if params.slice_crosses else "")
    slice_rows = slices.slice_report(test, y, p, contract.slices, params.min_slice_support, params.slice_tolerance,
                                     overall["roc_auc"], params.bootstrap, params.slice_crosses, seed, fan)
    fair = fairness.fairness_report(test, y, p, chosen["threshold"], params.sensitive, params.min_slice_support)

    robust, behave = None, None
    if score is not None:
        sample = test.sample(n=min(len(test), params.robustness.rows), random_state=seed)
        ys = sample[contract.label].to_numpy(int)
        strengths = params.robustness.model_dump(exclude={"rows"})
        log.info("robustness on %d rows: %s", len(sample), ", ".join(strengths))
        robust = robustness.robustness_curves(sample, ys, score, list(contract.numeric_features),
                                              dict(contract.categorical_features), strengths, fgsm, seed)
        bounds = {k: tuple(v) for k, v in contract.numeric_features.items()}
        behave = {"invariance": behaviour.invariance(sample, score, params.invariance.columns,
                                                     params.invariance.tolerance, seed),
                  "directional": behaviour.directional(sample, score, [d.model_dump() for d in params.directional],
                                                       bounds)}

    privacy, privacy_note = None, None
    if score is not None and members is not None and non_members is not None and params.membership_rows \
            and min(len(members), len(non_members)) < MIN_AUDIT_ROWS:
        privacy_note = (f"too few rows to audit: {len(non_members)} held out of the train split (at most 5%), "
                        f"{MIN_AUDIT_ROWS} needed")
    elif score is not None and members is not None and non_members is not None and params.membership_rows:
        from accelops.evaluation.privacy import membership_audit

        n = min(len(members), len(non_members), params.membership_rows)
        inside = members.sample(n=n, random_state=seed)
        outside = non_members.sample(n=n, random_state=seed)
        log.info("membership inference: %d training rows against %d held-out rows of the same period", n, n)
        privacy = membership_audit(inside[contract.label].to_numpy(int), score(inside),
                                   outside[contract.label].to_numpy(int), score(outside), params.bootstrap, seed)

    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = {
        "reliability": plots.reliability_diagram(calib["curve_before"], calib["curve_after"],
                                                 (calib["before"]["ece"], calib["after"]["ece"]),
                                                 out_dir / "reliability.png").name,
        "slices": plots.slice_chart(slice_rows, overall["roc_auc"], params.slice_tolerance,
                                    out_dir / "slices.png").name,
    }
    if robust:
        artifacts["robustness"] = plots.robustness_chart(robust, out_dir / "robustness.png").name
    pd.DataFrame(slice_rows).to_csv(out_dir / "slices.csv", index=False)
    artifacts["slices_table"] = "slices.csv"
    return EvaluationReport.model_validate({
        "rows": {"test": int(len(test)), "valid": int(len(valid))},
        "threshold": chosen,
        "overall": overall,
        "intervals": intervals,
        "at_threshold": metrics.threshold_metrics(y, p, chosen["threshold"]),
        "calibration": calib,
        "slices": slice_rows,
        "weak_slices": [s for s in slice_rows if s["weak"]],
        "fairness": fair,
        "robustness": robust,
        "behaviour": behave,
        "artifacts": artifacts,
        "privacy": privacy,
        "privacy_note": privacy_note,
    })


def flat_metrics(report: EvaluationReport) -> dict[str, float]:
    """MLflow-ready metrics with slice-qualified names (slice.<col>.<value>.roc_auc ...)."""
    out: dict[str, float | None] = {f"test_{k}": v for k, v in report.overall.model_dump().items()}
    for m, ci in report.intervals.items():
        out[f"test_{m}_ci_low"], out[f"test_{m}_ci_high"] = ci.low, ci.high
    at = report.at_threshold
    out |= {"test_accuracy": at.accuracy, "test_precision": at.precision, "test_recall": at.recall,
            "test_f1": at.f1, "test_threshold": at.threshold}
    cal = report.calibration
    out |= {"ece_before": cal.before.ece, "ece_after": cal.after.ece, "mce_after": cal.after.mce,
            "temperature": cal.temperature, "weak_slices": len(report.weak_slices)}
    if report.privacy:
        out |= {"membership_auc": report.privacy.roc_auc, "membership_advantage": report.privacy.advantage}
    for s in report.slices:
        if s.roc_auc is not None:
            out[metrics.metric_key("slice", s.slice.replace(" x ", "_x_"), s.value.replace(" & ", "_&_"), "roc_auc")] = s.roc_auc
    for col, f in report.fairness.columns.items():
        out[metrics.metric_key("fairness", col, "dp_diff")] = f.demographic_parity_difference
        out[metrics.metric_key("fairness", col, "eo_diff")] = f.equal_opportunity_difference
    if report.robustness:
        for name, points in report.robustness.curves.items():
            for pt in points:
                out[metrics.metric_key("robustness", name, f"{pt.strength:g}", "auc_drop")] = pt.drop
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def markdown_summary(report: EvaluationReport) -> str:
    """A short Markdown summary (the Prefect artifact)."""
    ci, cal, t = report.intervals, report.calibration, report.at_threshold
    lines = ["# Evaluation", "",
             "| metric | value | 95% CI |", "|---|---|---|"]
    for m in ("roc_auc", "pr_auc", "log_loss", "brier", "f1"):
        if m in ci:
            lines.append(f"| {m} | {ci[m].value:.4f} | {ci[m].low:.4f} – {ci[m].high:.4f} |")
    lines += ["", f"Threshold {t.threshold:.3f} ({report.threshold.rule}): precision {t.precision:.3f}, "
              f"recall {t.recall:.3f}, accuracy {t.accuracy:.3f}.",
              f"Calibration: ECE {cal.before.ece:.4f} → {cal.after.ece:.4f} (temperature {cal.temperature:.3f}).", ""]
    weak = report.weak_slices
    lines.append(f"Weak slices ({len(weak)}): " + (", ".join(f"{s.slice}={s.value} "
                 f"(AUC {s.roc_auc:.3f}, CI {s.low:.3f}–{s.high:.3f}, n={s.support})" for s in weak[:10])
                 or "none") + f"; overall AUC {report.overall.roc_auc:.4f}.")
    if gap := report.fairness.largest_gap:
        lines.append(f"Largest fairness gap: {gap.metric} on {gap.column} = {gap.value:.3f}.")
    if report.robustness:
        lines += ["", "| perturbation | strength | AUC | drop |", "|---|---|---|---|"]
        for name, points in report.robustness.curves.items():
            lines += [f"| {name} | {p.strength:g} | {p.roc_auc:.4f} | {p.drop:+.4f} |" for p in points]
    if report.behaviour:
        checks = report.behaviour.checks
        failed = sum(not b.passed for b in checks)
        lines += ["", f"Behavioural tests: {len(checks) - failed} passed, {failed} failed."]
    return "\n".join(lines)
