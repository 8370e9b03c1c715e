"""The promotion gate's rules, each with its value, bound and verdict.

Absolute rules apply to every candidate, the first model included: floors on test ROC-AUC and
PR-AUC, ceilings on calibration error (after temperature scaling), on the largest fairness gap, on
the AUC drop under each perturbation's mildest strength and on the membership-inference attack's AUC,
and the serving objective. Relative
rules compare the challenger with the champion re-scored on the same holdout (never numbers from
different test sets), with a paired bootstrap (the same resamples for both models) for the
interval of each AUC difference: the point gain must exceed `min_auc_gain` (a tie promotes only with
`promote_ties`) and the gain's lower bound must stay above -`tolerance` (non-inferiority, proven
overall); every slice value with enough support must not regress: its gain may not fall below
-`slice_tolerance`, nor its whole interval below zero (a significant loss). A rule whose input is
missing fails; a rule switched off in params (null bound) is skipped. The challenger is also held
against the other candidate trained on the same split (the network against its gradient-boosting
baseline, or back), so a champion worse than its own baseline cannot be promoted.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import GateParams
from accelops.evaluation.schema import EvaluationReport
from accelops.serving.schema import Recommendation

Verdict = Literal["pass", "fail", "skip"]


class RuleResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str
    verdict: Verdict
    value: float | None = None
    bound: float | None = None
    detail: str = ""


class FairnessGap(BaseModel):
    """The largest selection-rate or true-positive-rate gap between groups of a sensitive column, with its
    bootstrap 95% interval (groups under the support minimum, and TPRs over fewer positives, left out)."""
    model_config = ConfigDict(extra="forbid")
    column: str
    metric: str
    value: float
    low: float
    high: float


class Comparison(BaseModel):
    """The challenger against the champion on the same rows: point gain and its paired-bootstrap 95% interval."""
    model_config = ConfigDict(extra="forbid")
    champion_auc: float
    gain: float
    low: float
    high: float


def _rule(rule: str, ok: bool, value: float | None, bound: float | None, detail: str) -> RuleResult:
    return RuleResult(rule=rule, verdict="pass" if ok else "fail", value=value, bound=bound, detail=detail)


def absolute_rules(evaluation: EvaluationReport | None, serving: Recommendation | None, serving_checked: bool,
                   gate: GateParams, fairness: "FairnessGap | None" = None) -> list[RuleResult]:
    """Floors and ceilings on the challenger alone (they also bind the first model)."""
    if evaluation is None:
        return [RuleResult(rule="evaluation", verdict="fail", detail="missing input: no evaluation report")]
    out = []
    for name, value, floor in (("floor.roc_auc", evaluation.overall.roc_auc, gate.min_auc),
                               ("floor.pr_auc", evaluation.overall.pr_auc, gate.min_pr_auc)):
        if floor is not None:
            out.append(_rule(name, bool(np.isfinite(value) and value >= floor), value, floor,
                             f"test {name.split('.')[1]} {value:.4f} (floor {floor})"))
    after = evaluation.calibration.after
    if gate.max_ece is not None:
        excess = max(0.0, after.ece - after.noise)
        out.append(_rule("ceiling.ece", excess <= gate.max_ece, excess, gate.max_ece,
                         f"ECE after temperature scaling {after.ece:.4f}, of which {after.noise:.4f} is the floor a "
                         f"calibrated model shows on these rows: excess {excess:.4f} (ceiling {gate.max_ece})"))
    if gate.max_fairness_gap is not None:
        out.append(_fairness_rule(fairness, gate.max_fairness_gap))
    if gate.max_robustness_drop is not None:
        if evaluation.robustness is None or not evaluation.robustness.curves:
            out.append(RuleResult(rule="ceiling.robustness_drop", verdict="fail", bound=gate.max_robustness_drop,
                                  detail="missing input: no robustness curves in the evaluation"))
        else:
            mild = {name: pts[0] for name, pts in evaluation.robustness.curves.items() if pts}
            worst = max(mild, key=lambda n: mild[n].drop)
            drop = mild[worst].drop
            out.append(_rule("ceiling.robustness_drop", drop <= gate.max_robustness_drop, drop,
                             gate.max_robustness_drop, f"AUC drop under {worst} at {mild[worst].strength:g} "
                             f"{drop:+.4f} (ceiling {gate.max_robustness_drop})"))
    if gate.max_membership_auc is not None:
        mia = evaluation.privacy
        if mia is None and getattr(evaluation, "privacy_note", None):
            out.append(RuleResult(rule="ceiling.membership_auc", verdict="skip", bound=gate.max_membership_auc,
                                  detail=evaluation.privacy_note))
        elif mia is None:
            out.append(RuleResult(rule="ceiling.membership_auc", verdict="fail", bound=gate.max_membership_auc,
                                  detail="missing input: no membership-inference audit in the evaluation"))
        else:
            out.append(_rule("ceiling.membership_auc", mia.low <= gate.max_membership_auc, mia.roc_auc,
                             gate.max_membership_auc, f"membership attack AUC {mia.roc_auc:.4f}, 95% interval "
                             f"[{mia.low:.4f}, {mia.high:.4f}] over {mia.members} training rows and {mia.non_members} "
                             f"held-out rows of the same period (fails when the interval lies above the ceiling "
                             f"{gate.max_membership_auc})"))
    if serving_checked:
        if serving is None:
            out.append(RuleResult(rule="serving.online_objective", verdict="fail",
                                  detail="missing input: no benchmark recommendation"))
        else:
            out.append(_rule("serving.online_objective", serving.meets_online_objective, None,
                             serving.objective.online_p99_ms, serving.online_reason))
    return out


def _fairness_rule(gap: FairnessGap | None, ceiling: float) -> RuleResult:
    """Fails when the gap is above the ceiling with 95% confidence (its interval's lower bound), so a
    small table's noisy group rates neither block nor hide a real gap."""
    if gap is None:
        return RuleResult(rule="ceiling.fairness_gap", verdict="skip", bound=ceiling,
                          detail="no sensitive column with two groups above the support minimum")
    return _rule("ceiling.fairness_gap", gap.low <= ceiling, gap.value, ceiling,
                 f"{gap.metric} on {gap.column} {gap.value:.4f}, 95% interval [{gap.low:.4f}, {gap.high:.4f}] "
                 f"(fails when the interval lies above the ceiling {ceiling})")


def fairness_gap(y: np.ndarray, p: np.ndarray, threshold: float, groups: pd.DataFrame, min_support: int,
                 n_boot: int, rng: np.random.Generator) -> FairnessGap | None:
    """The largest demographic-parity (selection rate) or equal-opportunity (TPR) difference over the
    columns of `groups`, with bootstrap percentiles of that same column-and-metric gap."""
    from accelops.evaluation.metrics import over_resamples

    y = np.asarray(y).astype(int)
    pred = (np.asarray(p) >= threshold).astype(float)
    candidates = []              # (column, metric, group masks), each with two groups or more
    for col in groups.columns:
        values = groups[col].astype(object).fillna("<missing>").astype(str).to_numpy()
        masks = [values == g for g in sorted(set(values)) if (values == g).sum() >= min_support]
        positives = [m & (y == 1) for m in masks if (m & (y == 1)).sum() >= min_support]
        candidates += [(col, metric, rows) for metric, rows in (("demographic_parity_difference", masks),
                                                                ("equal_opportunity_difference", positives))
                       if len(rows) >= 2]
    if not candidates:
        return None

    def gaps(w: np.ndarray) -> np.ndarray:       # (candidate, resample): the max - min group rate
        rates = [np.stack([(w[:, m] @ pred[m]) / np.maximum(w[:, m].sum(1), 1e-12) for m in rows])
                 for _, _, rows in candidates]
        return np.stack([r.max(0) - r.min(0) for r in rates])

    resampled = over_resamples(len(y), n_boot, rng, gaps)
    best = None
    for (col, metric, rows), gap in zip(candidates, resampled):
        point = [pred[m].mean() for m in rows]
        value = float(max(point) - min(point))
        if best is None or value > best.value:
            low, high = np.quantile(gap, [0.025, 0.975])
            best = FairnessGap(column=col, metric=metric, value=value, low=float(low), high=float(high))
    return best


def paired_auc_gain(y: np.ndarray, p_new: np.ndarray, p_old: np.ndarray, n_boot: int,
                    rng: np.random.Generator) -> tuple[float, float, float, float]:
    """(champion AUC, gain, low, high): the challenger's AUC minus the champion's on the same rows, with
    the 2.5/97.5% percentiles of the same difference over paired bootstrap resamples."""
    from accelops.evaluation.metrics import fast_auc, over_resamples, weighted_auc

    old = fast_auc(y, p_old)
    gain = fast_auc(y, p_new) - old
    diffs = over_resamples(len(y), n_boot, rng, lambda w: weighted_auc(y, p_new, w) - weighted_auc(y, p_old, w))
    diffs = diffs[np.isfinite(diffs)]
    low, high = np.quantile(diffs, [0.025, 0.975]) if len(diffs) else (np.nan, np.nan)
    return float(old), float(gain), float(low), float(high)


def champion_rules(y: np.ndarray, p_new: np.ndarray, p_champion: np.ndarray, slices: pd.DataFrame,
                   gate: GateParams, min_support: int, seed: int = 0) -> tuple[Comparison, list[RuleResult]]:
    """The relative rules: overall gain (point and interval) and non-regression on every slice value
    with at least `min_support` rows and both classes."""
    y = np.asarray(y).astype(int)
    p_new, p_champion = np.asarray(p_new, dtype=float), np.asarray(p_champion, dtype=float)
    rng = np.random.default_rng(seed)
    old, gain, low, high = paired_auc_gain(y, p_new, p_champion, gate.bootstrap, rng)
    cmp = Comparison(champion_auc=old, gain=gain, low=low, high=high)
    better = gain > gate.min_auc_gain or (gate.promote_ties and gain >= gate.min_auc_gain)
    tie = "ties do not promote (register.gate.promote_ties)" if gain == gate.min_auc_gain and not better else ""
    out = [_rule("champion.auc_gain", better, gain, gate.min_auc_gain,
                 f"challenger AUC gain {gain:+.4f} over the champion's {old:.4f} on the same holdout "
                 f"(needs {'>=' if gate.promote_ties else '>'} {gate.min_auc_gain})" + (f"; {tie}" if tie else "")),
           _rule("champion.auc_gain_low", bool(np.isfinite(low) and low > -gate.tolerance), low, -gate.tolerance,
                 f"paired-bootstrap 95% interval of the gain [{low:+.4f}, {high:+.4f}] (lower bound must be "
                 f"> {-gate.tolerance})")]
    for col in slices.columns:
        values = slices[col].astype(object).fillna("<missing>").astype(str).to_numpy()
        for value in sorted(set(values)):
            idx = np.flatnonzero(values == value)
            ys = y[idx]
            if len(idx) < min_support or not 0 < ys.sum() < len(ys):
                continue
            s_old, s_gain, s_low, s_high = paired_auc_gain(ys, p_new[idx], p_champion[idx], gate.bootstrap, rng)
            regressed = s_gain < -gate.slice_tolerance or s_high < 0
            out.append(_rule(f"slice.{col}={value}", bool(np.isfinite(s_gain) and not regressed), s_gain,
                             -gate.slice_tolerance,
                             f"{col}={value} (n={len(idx)}): AUC gain {s_gain:+.4f} over {s_old:.4f}, 95% interval "
                             f"[{s_low:+.4f}, {s_high:+.4f}] (fails below {-gate.slice_tolerance} or when the "
                             "interval lies below zero)"))
    return cmp, out


def candidate_rules(y: np.ndarray, p: np.ndarray, challenger: str, others: dict[str, np.ndarray],
                    gate: GateParams, seed: int = 0) -> list[RuleResult]:
    """The challenger against each other candidate on the same test rows (paired bootstrap): fails when
    its whole 95% interval lies below zero, or when its AUC is below the other's by more than `tolerance`
    and the interval is narrow enough (half-width <= tolerance) for that point estimate to mean it. On
    a few hundred test rows (half-widths of 0.03) the candidates were picked on validation AUC and
    only a significant loss on test overrules that pick; on tens of thousands both conditions hold."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y).astype(int)
    out = []
    for kind, q in sorted(others.items()):
        other, gain, low, high = paired_auc_gain(y, np.asarray(p, float), np.asarray(q, float), gate.bootstrap, rng)
        precise = (high - low) / 2 <= gate.tolerance
        ok = bool(np.isfinite(gain) and not high < 0 and (gain >= -gate.tolerance or not precise))
        out.append(_rule(f"candidate.{kind}.auc_gain", ok, gain, -gate.tolerance,
                         f"{challenger} challenger AUC gain {gain:+.4f} over the {kind} candidate's {other:.4f} "
                         f"on the same test rows, 95% interval [{low:+.4f}, {high:+.4f}] (fails when the interval "
                         f"lies below zero, or below {-gate.tolerance} when the interval's half-width is at most "
                         f"{gate.tolerance}{'' if precise else ': it is wider, too few rows to judge a point loss'})"))
    return out


def verdict(rules: list[RuleResult]) -> tuple[bool, str]:
    """(every rule passed or was skipped, the reason: the failed rules' details, or how many passed)."""
    failed = [r for r in rules if r.verdict == "fail"]
    if failed:
        return False, "; ".join(f"{r.rule}: {r.detail}" for r in failed)
    return True, f"all {sum(r.verdict == 'pass' for r in rules)} rules passed"
