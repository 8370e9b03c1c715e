"""The evaluation report (reports/evaluation/evaluation.json): the promotion gate's input, as a typed
model. `schema_version` changes whenever a field changes meaning or disappears."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rows(_Record):
    test: int
    valid: int


class ThresholdChoice(_Record):
    threshold: float
    rule: str
    valid_f1: float | None = None
    valid_cost: float | None = None


class OverallMetrics(_Record):
    """Point estimates on the test split."""
    roc_auc: float
    pr_auc: float
    log_loss: float
    brier: float
    positive_rate: float
    rows: int


class Interval(_Record):
    """95% percentile-bootstrap interval around the point estimate."""
    value: float
    low: float
    high: float


class ConfusionMatrix(_Record):
    tn: int
    fp: int
    fn: int
    tp: int


class AtThreshold(_Record):
    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    confusion_matrix: ConfusionMatrix


class CalibrationErrors(_Record):
    ece: float
    mce: float
    bins: int
    noise: float = 0.0      # mean ECE of a perfectly calibrated model with these predictions and rows


class ReliabilityBin(_Record):
    mean_predicted: float
    observed_rate: float
    count: int


class Calibration(_Record):
    temperature: float
    before: CalibrationErrors
    after: CalibrationErrors
    curve_before: list[ReliabilityBin]
    curve_after: list[ReliabilityBin]


class SliceRow(_Record):
    """One slice value (or a cross of two, "a x b" / "v & w"); `weak` when its upper bound is below
    the overall AUC minus the tolerance. AUC and bounds are None under the support minimum."""
    slice: str
    value: str
    support: int
    positive_rate: float
    roc_auc: float | None
    low: float | None
    high: float | None
    weak: bool


class FairnessGroup(_Record):
    support: int
    selection_rate: float
    tpr: float | None


class FairnessColumn(_Record):
    groups: dict[str, FairnessGroup]
    demographic_parity_difference: float
    equal_opportunity_difference: float


class FairnessGap(_Record):
    column: str
    metric: str
    value: float


class Fairness(_Record):
    threshold: float
    columns: dict[str, FairnessColumn]
    largest_gap: FairnessGap | None


class RobustnessPoint(_Record):
    strength: float
    roc_auc: float
    drop: float


class Robustness(_Record):
    clean_auc: float
    curves: dict[str, list[RobustnessPoint]]


class InvarianceCheck(_Record):
    column: str
    max_abs_change: float
    tolerance: float
    passed: bool


class DirectionalCheck(_Record):
    feature: str
    delta: float
    direction: Literal["up", "down"]
    mean_change: float
    share_rows_against: float
    passed: bool


class Behaviour(_Record):
    invariance: list[InvarianceCheck]
    directional: list[DirectionalCheck]

    @property
    def checks(self) -> list[InvarianceCheck | DirectionalCheck]:
        return [*self.invariance, *self.directional]


class MembershipInference(_Record):
    """The loss-threshold membership attack on the served model (accelops.evaluation.privacy)."""
    attack: str
    roc_auc: float
    low: float
    high: float
    advantage: float          # the attack's best TPR - FPR
    members: int              # training rows attacked
    non_members: int          # rows of the training period held out of fitting (split "audit") attacked


class EvaluationReport(_Record):
    schema_version: Literal[1] = SCHEMA_VERSION
    rows: Rows
    threshold: ThresholdChoice
    overall: OverallMetrics
    intervals: dict[str, Interval]
    at_threshold: AtThreshold
    calibration: Calibration
    slices: list[SliceRow]                # worst first
    weak_slices: list[SliceRow]
    fairness: Fairness
    robustness: Robustness | None         # None when no scorer was given
    behaviour: Behaviour | None
    artifacts: dict[str, str]             # name -> file name in the evaluation folder
    privacy: MembershipInference | None = None   # None when no training rows were given ...
    privacy_note: str | None = None              # ... or, said here, when the table is too small to audit

    def headline(self) -> dict[str, float | int]:
        """The DVC metrics file (reports/metrics.json): overall metrics, F1 at the threshold, ECE."""
        return {**self.overall.model_dump(), "f1": self.at_threshold.f1, "threshold": self.threshold.threshold,
                "ece_before": self.calibration.before.ece, "ece_after": self.calibration.after.ece,
                "weak_slices": len(self.weak_slices),
                **({"membership_auc": self.privacy.roc_auc} if self.privacy else {})}
