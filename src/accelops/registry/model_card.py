"""A model card for every candidate (Markdown and HTML): intended use, data and its provenance,
metrics with intervals, slices, calibration, fairness, robustness, the serving recommendation, the
gate's decision with every rule, and the limitations these figures show. Aggregates only: no row,
no value of a PII column."""

from __future__ import annotations

from accelops.config import Params
from accelops.evaluation.schema import EvaluationReport
from accelops.registry.promotion import DecisionRecord
from accelops.serving.schema import BenchmarkResult
from accelops.training.schema import TrainingSummary


def render(params: Params, decision: DecisionRecord, training: TrainingSummary, evaluation: EvaluationReport,
           benchmark: BenchmarkResult | None, provenance: dict[str, str]) -> str:
    contract, name = params.dataset, params.register_.model_name
    ev, cal = evaluation, evaluation.calibration
    lines = [f"# Model card: {name} v{decision.version}", "",
             f"**Gate decision: {decision.status}**: {decision.reason}", "",
             "## Intended use", "",
             f"Scores the probability that `{contract.label}` = 1 for a `{contract.entity_id}` of the "
             f"`{contract.name}` dataset from its contract features ({len(params.model_contract.feature_columns)} "
             f"inputs, windowed aggregates included), calibrated by temperature scaling. Not for entities or "
             "periods unlike the training window below, nor for decisions on one person without review.", "",
             "## Data and provenance", "",
             f"Rows: {', '.join(f'{k} {v:,}' for k, v in training.rows.items())} (time-ordered split "
             f"{list(params.train.split)}).", "",
             "| fact | value |", "|---|---|"]
    lines += [f"| {k} | `{v}` |" for k, v in sorted(provenance.items())]
    lines += ["", "## Metrics (test split, 95% bootstrap intervals)", "", "| metric | value | interval |", "|---|---|---|"]
    lines += [f"| {m} | {ci.value:.4f} | {ci.low:.4f} – {ci.high:.4f} |" for m, ci in ev.intervals.items()]
    base = training.baseline
    kind = "gradient-boosting model (HistGradientBoosting, served by scikit-learn or Treelite)" \
        if training.challenger == "boosting" else "network (the accelerator path)"
    lines += ["", f"Model: the {kind}, chosen over the other candidate on the same split by validation AUC "
              f"({training.challenger_reason}). Test AUC {ev.overall.roc_auc:.4f}; the gradient-boosting baseline "
              f"{base.roc_auc:.4f}.", "", "## Slices (worst first)", "",
              "| slice | value | rows | AUC | interval | weak |", "|---|---|---|---|---|---|"]
    for s in [s for s in ev.slices if s.roc_auc is not None][:10]:
        lines.append(f"| {s.slice} | {s.value} | {s.support} | {s.roc_auc:.4f} | {s.low:.4f} – {s.high:.4f} | "
                     f"{'yes' if s.weak else ''} |")
    lines += ["", "## Calibration", "", f"ECE {cal.before.ece:.4f} before and {cal.after.ece:.4f} after temperature "
              f"scaling (T = {cal.temperature:.3f}); maximum bin gap {cal.after.mce:.4f}.", "", "## Fairness", ""]
    for col, f in ev.fairness.columns.items():
        lines.append(f"- {col}: demographic-parity difference {f.demographic_parity_difference:.4f}, "
                     f"equal-opportunity difference {f.equal_opportunity_difference:.4f} ({len(f.groups)} groups)")
    if ev.robustness:
        lines += ["", "## Robustness (AUC drop)", "", "| perturbation | mildest | strongest |", "|---|---|---|"]
        lines += [f"| {n} | {p[0].drop:+.4f} at {p[0].strength:g} | {p[-1].drop:+.4f} at {p[-1].strength:g} |"
                  for n, p in ev.robustness.curves.items() if p]
    lines += ["", "## Privacy (membership inference)", ""]
    if (mia := ev.privacy) is None:
        lines.append(f"Not audited: {ev.privacy_note or 'no training rows were attacked'}.")
    else:
        bound = params.register_.gate.max_membership_auc
        lines.append(f"A {mia.attack} attack told {mia.members:,} training rows from {mia.non_members:,} rows of the "
                     f"same period held out of training "
                     f"with ROC-AUC {mia.roc_auc:.4f} (95% interval {mia.low:.4f} – {mia.high:.4f}; 0.5: nothing "
                     f"leaks) and an advantage (best TPR − FPR) of {mia.advantage:.4f}"
                     + (f"; the gate fails it when the interval lies above {bound}." if bound is not None
                        else "; no ceiling in the gate.")
                     + " A lower bound on the leak: stronger attacks exist.")
    lines += ["", "## Serving", ""]
    if benchmark is None:
        lines.append("Not benchmarked: served by the reference variant (fp32 torch eager for a network, "
                     "scikit-learn for a gradient-boosting model).")
    else:
        rec = benchmark.recommendation
        lines += [f"- online: {rec.online_reason}", f"- batch: {rec.batch_reason}",
                  f"- measured with {benchmark.conditions.threads} threads on {benchmark.conditions.cores} cores, "
                  f"load average {benchmark.conditions.load_average_end:.2f}"]
    lines += ["", "## Gate rules", "", "| rule | verdict | value | bound |", "|---|---|---|---|"]
    lines += [f"| {r.rule} | {r.verdict} | {'' if r.value is None else f'{r.value:.4g}'} | "
              f"{'' if r.bound is None else f'{r.bound:g}'} |" for r in decision.rules]
    lines += ["", "## Limitations", ""] + [f"- {x}" for x in limitations(training, evaluation)]
    return "\n".join(lines) + "\n"


def limitations(training: TrainingSummary, evaluation: EvaluationReport) -> list[str]:
    """What the figures themselves warn about."""
    out = []
    ev = evaluation
    if ev.weak_slices:
        out.append("weak slices (interval entirely below the overall AUC minus the tolerance): "
                   + ", ".join(f"{s.slice}={s.value}" for s in ev.weak_slices[:5]))
    if training.challenger == "network" and training.baseline.roc_auc > ev.overall.roc_auc:
        out.append(f"the gradient-boosting baseline scores higher on the same split ({training.baseline.roc_auc:.4f})")
    if ev.calibration.after.ece > ev.calibration.before.ece:
        out.append("temperature scaling did not reduce the calibration error on the test split (a shift after "
                   "the validation window?)")
    if ev.rows.test < 2000:
        out.append(f"small test split ({ev.rows.test} rows): intervals are wide")
    if (gap := ev.fairness.largest_gap) is not None and gap.value > 0.1:
        out.append(f"{gap.metric} of {gap.value:.3f} on {gap.column}")
    out.append("trained on the time window above; performance on later data is estimated by the monitoring flow")
    return out

