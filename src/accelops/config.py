"""Typed parameters (params.yaml); the on-disk layout derived from them is `accelops.layout`.

Nothing here runs at import time. `load_params()` is the only place params.yaml is read;
every stage receives the resulting `Params` object.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from accelops.errors import ConfigError

if TYPE_CHECKING:
    from accelops.layout import Layout

PARAMS_ENV = "ACCELOPS_PARAMS"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PROBLEMS = "problems under these keys:"


def _raise_all(problems: list[tuple[str, str]]) -> None:
    """One ValueError carrying every (key, message), a line each (load_params shows each under its key)."""
    if problems:
        raise ValueError(PROBLEMS + "\n" + "\n".join(f"{key}: {message}" for key, message in problems))


class PathsParams(_Section):
    """Where the pipeline's inputs and local state live; relative paths are resolved from params.yaml's folder."""
    workdir: str = Field(".accelops", description="All local state: MLflow store, Feast registry, Prefect home, "
                         "reports, quarantine (the ACCELOPS_WORKDIR environment variable overrides it)")
    history: str = Field("data/raw/history.parquet",
                         description="The training history (Parquet; written by the `generate` stage)")
    feature_repo: str | None = Field(None, description="Folder of your own Feast definitions (definitions.py, "
                                     "a `definitions(...)` function); null = accelops' generic definitions "
                                     "(accelops/features/definitions.py: an entity, a file source, one view per "
                                     "features.views entry and a feature service)")
    reference: str | None = Field(None, description="The accepted data whose statistics (reference profile) and "
                                  "label-error rate bound later batches (the `reference` stage); default: history")


class Contract(_Section):
    """The dataset contract (params.yaml `dataset`): key columns, features with their bounds or
    values, slices, PII and free-text columns. `Params.model_contract` is the same contract as the
    model sees it (plus the windowed aggregates)."""
    name: str = Field(min_length=1, description="Dataset name: names the validation suite and tags MLflow runs")
    entity_id: str = Field(description="Entity key column (one customer); the Feast join key")
    timestamp: str = Field(description="Event-time column: point-in-time joins and the time-ordered split")
    label: str = Field(description="Binary target column (values 0/1)")
    positive_label: int | str = Field(1, description="Value of the positive class in the files (1, 'yes', 'M'...); "
                                      "a label column with other values than 0/1 is read as 1 where it equals "
                                      "this and 0 for its one other value")
    derive_keys: list[Literal["entity_id", "timestamp"]] = Field(
        [], description="Key columns the files lack, made when a file is read: entity_id a row number (unique "
        "per file: the file name's hash in the high bits), timestamp the file's modification time (ingestion "
        "time; the train/valid/test split is then random, stratified by label, not by time)")
    numeric_features: dict[str, tuple[float | None, float | None]] = Field(
        {}, description="Numeric feature columns: name -> [min, max] accepted range (null = unbounded)")
    categorical_features: dict[str, list[str]] = Field(
        {}, description="Categorical feature columns: name -> accepted values (others are unseen categories)")
    slices: list[str] = Field([], description="Categorical features whose values (and pairwise crosses) get "
                              "their own evaluation metrics")
    pii: list[str] = Field([], description="Personal-data columns: never features; dropped or hashed "
                           "(pii.policy) before anything is stored")
    text: list[str] = Field([], description="Free-text columns: kept with personal data redacted; never features")

    @model_validator(mode="after")
    def _consistent(self) -> "Contract":
        _raise_all(self.problems())
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Every inconsistency between the contract's keys, as (key, message)."""
        out: list[tuple[str, str]] = []
        if not self.numeric_features and not self.categorical_features:
            out.append(("<contract>", "declare at least one numeric or categorical feature"))
        features = set(self.numeric_features) | set(self.categorical_features)
        if clash := set(self.numeric_features) & set(self.categorical_features):
            out.append(("categorical_features", f"columns declared both numeric and categorical: {sorted(clash)}"))
        keys = {self.entity_id, self.timestamp, self.label}
        if len(keys) != 3:
            out.append(("label", "entity_id, timestamp and label must be three different columns"))
        if clash := keys & features:
            out.append(("<features>", f"key columns cannot also be features: {sorted(clash)}"))
        if unknown := set(self.slices) - set(self.categorical_features):
            out.append(("slices", f"slices must be categorical features; unknown: {sorted(unknown)}"))
        if clash := set(self.pii) & (features | keys):
            out.append(("pii", f"PII columns can never be features or keys: {sorted(clash)}"))
        if clash := set(self.text) & (features | keys | set(self.pii)):
            out.append(("text", f"text columns cannot also be features, keys or PII: {sorted(clash)}"))
        for name, (lo, hi) in self.numeric_features.items():
            if lo is not None and hi is not None and lo > hi:
                out.append((f"numeric_features.{name}", f"min {lo} > max {hi}"))
        for name, values in self.categorical_features.items():
            if not values:
                out.append((f"categorical_features.{name}", "list at least one value"))
        return out

    @property
    def feature_columns(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    @property
    def columns(self) -> list[str]:
        """Every column a raw batch must carry, in a stable order."""
        return [self.entity_id, self.timestamp, *self.feature_columns, *self.pii, *self.text, self.label]


class GenerateParams(_Section):
    """The synthetic history (`accelops stage generate`, `make run`); also the defaults of `accelops data generate`."""
    rows: int = Field(200_000, gt=0, description="Rows (customer snapshots) to generate; a quarter as many customers")
    days: int = Field(90, gt=0, description="Days of event time the rows are spread over")
    start: str = Field("2026-06-01", description="First day (UTC), e.g. 2026-06-01")
    seed: int = Field(0, description="Random seed: the same seed gives the same rows")
    scenario: str = Field("none", description="Drift scenario injected: none, covariate_shift, slice_shift, "
                          "new_category, missing_spike, concept_drift or label_noise")


Severity = Literal["error", "warning"]


class SeverityParams(_Section):
    """Per rule family: an error blocks the batch, a warning is reported and lets it pass."""
    reference_bounds: Severity = Field("warning", description="Column means and 5-95% bands vs the reference profile")
    class_balance: Severity = Field("warning", description="Label positive rate vs the reference profile")
    unseen_category: Severity = Field("error", description="A categorical value outside the contract's set")
    timestamps: Severity = Field("error", description="Events in the future or older than the time window")
    near_duplicates: Severity = Field("warning", description="Rows identical on every feature and the label")


# phone regions tried for numbers written without a country code (validate.pii_regions)
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "BR", "RU", "TR", "CN", "JP", "KR", "IN",
                         "SA", "AE", "EG", "VN", "NG", "SE", "GR", "IL", "TH", "UA", "IR", "MX", "CA", "AU")


class ValidateParams(_Section):
    """The data-quality gate on every batch (`accelops validate`, the validate stage, monitoring)."""
    max_null_fraction: float = Field(0.02, ge=0, le=1, description="Largest share of nulls per feature column "
                                     "(id, timestamp and label allow none)")
    min_rows: int = Field(100, ge=1, description="Fewest rows a batch may have")
    max_rows: int | None = Field(default=None, ge=1, description="Most rows a batch may have (null = no bound)")
    reference_profile: bool = Field(True, description="Add bounds from the statistics of the reference data "
                                    "(paths.reference; the reference profile)")
    mean_shift_std: float = Field(default=0.5, gt=0, description="Column mean within the reference mean +- this "
                                  "x reference std")
    quantile_shift_std: float = Field(default=1.0, gt=0, description="At least 90% of values within the reference "
                                      "5-95% quantile band widened by this x reference std")
    class_balance_tolerance: float = Field(default=0.05, gt=0, le=1,
                                           description="Label positive rate within the reference rate +- this")
    timestamp_window_days: int = Field(default=730, gt=0, description="No event older than now - this many days")
    future_skew_minutes: int = Field(default=5, ge=0, description="No event later than now + this many minutes")
    max_near_duplicate_fraction: float = Field(default=0.01, ge=0, le=1, description="Largest share of rows "
                                               "identical on every feature and the label (ids and time ignored)")
    min_slice_rows: int = Field(default=50, ge=1, description="Slice values with fewer rows are reported")
    severity: SeverityParams = Field(SeverityParams(), description="Per rule family: error (blocks the batch) "
                                     "or warning (reported; the batch passes)")
    on_failure: Literal["reject", "partial"] = Field("reject", description="reject: the whole batch fails; "
                                                     "partial: continue with the rows that pass, quarantine the rest")
    max_rejected_fraction: float = Field(default=0.05, ge=0, le=1, description="partial acceptance only while "
                                         "at most this share of rows is quarantined")
    pii_threshold: float = Field(default=0.01, gt=0, le=1, description="An undeclared column with at least this "
                                 "share of personal-data matches blocks the batch")
    pii_sample: int = Field(default=5000, gt=0, description="Values scanned per column by the PII scan")
    pii_regions: list[str] = Field(default=list(DEFAULT_PHONE_REGIONS), min_length=1, description="Regions "
                                   "(ISO 3166 codes) in which the PII scan reads phone numbers written without "
                                   "a country code; numbers with one (+44, 0044) are read in any region")
    label_check: bool = Field(True, description="Confident-learning label-noise check on out-of-fold "
                              "HistGradientBoosting probabilities (reference and validate stages)")
    label_folds: int | None = Field(default=None, ge=2, description="Cross-validation folds of the label check; "
                                    "null = from the rows (5 up to 100k rows, 3 above; never more than the "
                                    "rarer class's count)")
    label_fit_rows: int | None = Field(default=1_000_000, ge=1000, description="Rows the label check's fold "
                                       "models are fit on at most: a larger table's folds are fit on a seeded "
                                       "sample of this many rows and every other row is scored by the fold "
                                       "models' average (out of sample all the same); null = every row")
    max_excess_label_issue_rate: float = Field(default=0.03, ge=0, le=1, description="Block when the flagged-label "
                                               "rate exceeds the reference data's rate by more than this")

    @model_validator(mode="after")
    def _regions(self) -> "ValidateParams":
        import phonenumbers       # the region list libphonenumber has metadata for

        if unknown := sorted(set(self.pii_regions) - phonenumbers.SUPPORTED_REGIONS):
            raise ValueError(f"pii_regions: not ISO 3166 region codes libphonenumber knows: {unknown}")
        return self


class PiiParams(_Section):
    """What happens to the declared PII columns (dataset.pii) before anything is stored."""
    policy: Literal["drop", "hash"] = Field("drop", description="drop the columns, or hash them with a keyed "
                                            "HMAC-SHA256 (deterministic per key, irreversible without it)")
    key_env: str = Field("ACCELOPS_PII_KEY", description="Environment variable holding the hash key; when unset, "
                         "a local key is generated once into the workdir")


class ViewParams(_Section):
    """One Feast feature view: features that belong together by meaning, with their time to live."""
    ttl_days: int = Field(gt=0, description="Feature rows older than this many days are stale (served as "
                          "missing in training sets; reported as stale_views online)")
    features: list[str] = Field(min_length=1, description="Contract features or windowed aggregates in this "
                                "view (each in exactly one view)")
    description: str = Field("", description="What the view holds (shown in the Feast registry)")
    max_missing_fraction: float | None = Field(default=None, ge=0, le=1, description="Share of entity rows "
                                               "allowed without this view's features (null = "
                                               "features.max_missing_fraction)")


class WindowParams(_Section):
    """Trailing per-entity aggregates, computed point in time at each feature row's timestamp over
    (ts - days, ts]: `events_{d}d` (rows in the window) and `{column}_mean_{d}d` (mean of non-null values)."""
    days: list[int] = Field(min_length=1, description="Window lengths in days (distinct, positive)")
    count: bool = Field(True, description="Add events_{d}d: the entity's rows in each window")
    mean: list[str] = Field([], description="Numeric contract columns averaged per window ({column}_mean_{d}d)")

    @model_validator(mode="after")
    def _distinct(self) -> "WindowParams":
        if len(set(self.days)) != len(self.days) or min(self.days) <= 0:
            raise ValueError(f"days must be distinct positive integers, got {self.days}")
        if not self.count and not self.mean:
            raise ValueError("windows: enable count or list columns under mean")
        return self

    def columns(self) -> dict[str, str | None]:
        """{aggregate name: source column (None for the event count)}, in a stable order."""
        out: dict[str, str | None] = {}
        for d in self.days:
            if self.count:
                out[f"events_{d}d"] = None
            out |= {f"{col}_mean_{d}d": col for col in self.mean}
        return out

    def sources(self) -> list[str]:
        """The contract columns the aggregates read (each once)."""
        return list(dict.fromkeys(self.mean))


class FeaturesParams(_Section):
    """The Feast feature store: views, windowed aggregates, point-in-time joins and the online store."""
    project: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Feast project name (default: from "
                         "dataset.name)")
    entity: str = Field(description="Feast entity name, joined on dataset.entity_id (default: dataset.entity_id)")
    views: dict[str, ViewParams] = Field(min_length=1, description="Feature views by name; every model feature "
                                         "in exactly one (default: one view `<dataset>_features` holding every "
                                         "contract feature and windowed aggregate)")
    windows: WindowParams | None = Field(None, description="Trailing per-entity aggregates (model inputs, placed "
                                         "in a view); null = none")
    feature_service: str = Field(description="Feast feature service the model is trained and served on "
                                 "(version it when the views change; default: `<dataset>_model_v1`)")
    engine: Literal["asof", "feast"] = Field("asof", description="Point-in-time join engine: asof (merge_asof over "
                                             "Feast's definitions) or feast (Feast's file offline store, slower)")
    max_missing_fraction: float = Field(default=0.0, ge=0, le=1, description="Share of entity rows allowed to "
                                        "come back without a view's features (a view may set its own)")
    online_store: Literal["rows", "sqlite", "redis"] = Field("rows", description="rows: one SQLite row per entity "
                                                             "(accelops.features.row_store); sqlite: Feast's row per "
                                                             "feature; redis: Feast's Redis store at `redis`")
    online_writer: Literal["bulk", "feast"] = Field("bulk", description="bulk: latest row per entity in one "
                                                    "executemany; feast: Feast's materialize()")
    redis: str = Field(default="127.0.0.1:6379", pattern=r"^[^,=\s]+:\d+$", description="host:port of the Redis "
                       "online store; the password only from ACCELOPS_REDIS_PASSWORD, never in a file")
    redis_db: int = Field(default=0, ge=0, description="Redis database number of the online store")
    registry: str | None = Field(None, description="SQLAlchemy URL of Feast's SQL registry (e.g. "
                                 "postgresql+psycopg://accelops@db:5432/feast; the password from PGPASSWORD, never in "
                                 "a file); null = a registry file in the workdir")


class DistributedParams(_Section):
    """torchrun from the train stage: the network trained by DistributedDataParallel in several processes
    (gloo on CPU, NCCL on CUDA, one GPU per process) and hosts, with the same split, loop, checkpoints and
    MLflow run as in one process."""
    nproc_per_node: int = Field(1, ge=1, description="Training processes on this host; 1 (and nnodes 1) = no "
                                "torchrun: the network trains in the stage's own process")
    nnodes: int = Field(1, ge=1, description="Hosts taking part; above 1 every host runs the train stage with the "
                        "same rdzv_endpoint and rdzv_id")
    rdzv_endpoint: str | None = Field(None, description="host:port of the rendezvous (torchrun's c10d backend), "
                                      "needed when nnodes > 1")
    rdzv_id: str = Field("accelops", min_length=1, description="The job id every host of one training shares")

    @model_validator(mode="after")
    def _endpoint_for_hosts(self) -> "DistributedParams":
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ValueError(f"nnodes {self.nnodes} needs rdzv_endpoint (host:port every host can reach)")
        return self

    @property
    def enabled(self) -> bool:
        return self.nproc_per_node > 1 or self.nnodes > 1


class TuningParams(_Section):
    """Optuna search over the network's hyperparameters, run by the train stage before its final fit (the
    flow runs the trials on its task runner). The first trial is the params as written, so the search is
    compared with the defaults on the same split; the best trial's values train the network."""
    trials: int = Field(0, ge=0, description="Trials in the study (0 = no search). The study is named by the "
                        "training set and the train params, so raising this continues it and a rerun after a "
                        "failure keeps the trials already done")
    parallel: int = Field(1, ge=1, description="Trials asked at once and run together on the task runner (each "
                          "with the available cores shared out)")
    timeout_minutes: float | None = Field(None, gt=0, description="No new batch of trials after this long (null "
                                          "= none)")
    pruning: bool = Field(True, description="Median pruning: a trial whose validation AUC at an epoch is below "
                          "the median of earlier trials at that epoch stops there")
    parameters: list[Literal["lr", "weight_decay", "dropout", "hidden", "embedding_dim", "batch_size"]] = Field(
        default=["lr", "weight_decay", "dropout", "hidden", "embedding_dim"], min_length=1,
        description="What is searched (accelops.training.tuning.SPACE: ranges around the defaults); the rest "
                    "stays as written")
    storage: str | None = Field(None, description="Optuna storage URL shared by the workers (e.g. "
                                "postgresql+psycopg://accelops@db:5432/optuna, password from PGPASSWORD); null = a "
                                "journal file in the workdir (workers on this host)")


class TrainParams(_Section):
    """The torch model (an MLP over standardised numerics and categorical embeddings) and its baseline."""
    device: Literal["auto", "cpu", "cuda", "mps"] = Field("auto", description="Training device; auto = CUDA, "
                                                          "else MPS, else CPU")
    threads: int = Field(0, ge=0, description="CPU threads for torch, the baseline and the label check "
                         "(0 = one per available core)")
    seed: int = Field(42, description="Seed of training, the baseline, the label check, evaluation resamples "
                      "and distillation")
    split: tuple[float, float, float] = Field((0.70, 0.15, 0.15), description="Train / valid / test fractions, by event time "
                                              "(positive, summing to 1)")
    hidden: list[int] = Field([64, 32], min_length=1, description="Hidden layer widths")
    embedding_dim: int = Field(4, gt=0, description="Embedding width of each categorical feature")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout after each hidden layer")
    epochs: int | None = Field(None, gt=0, description="Most epochs (early stopping may end sooner); null = from "
                               "the training rows (accelops.training.sizing: about 2,000 optimiser steps, 10 to "
                               "60 epochs)")
    batch_size: int | None = Field(None, gt=0, description="Rows per optimiser step (the global batch under "
                                   "torchrun); null = from the training rows (about 1/50 of them, a power of two "
                                   "from 32 to 1024)")
    lr: float = Field(0.003, gt=0, description="Peak learning rate of AdamW's one-cycle schedule")
    weight_decay: float = Field(1e-4, ge=0, description="AdamW weight decay")
    patience: int = Field(3, gt=0, description="Epochs without a better validation AUC before early stopping")
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="auto: bf16 autocast only where the "
                                                       "hardware has native bf16, else fp32")
    grad_clip: float = Field(default=1.0, gt=0, description="Max gradient norm (clipped every step)")
    class_weight: Literal["none", "balanced"] = Field("none", description="balanced weights positives by "
                                                      "negatives/positives (skews probabilities; see README)")
    baseline_max_iter: int = Field(default=200, gt=0, description="Boosting iterations of the "
                                   "HistGradientBoosting baseline (same split)")
    candidates: list[Literal["network", "boosting"]] = Field(
        default=["network", "boosting"], min_length=1,
        description="Which of the two models the train stage fits on the same split (the network and the "
                    "HistGradientBoosting baseline) may become the challenger: the one listed with the best "
                    "validation AUC (ties go to the first listed). 'network' is the accelerator path; "
                    "'boosting' is served by scikit-learn on CPU")

    distributed: DistributedParams = Field(default_factory=DistributedParams,
                                           description="torchrun from the train stage (several processes or hosts)")
    tuning: TuningParams = Field(default_factory=TuningParams, description=TuningParams.__doc__)

    @model_validator(mode="after")
    def _split_sums_to_one(self) -> "TrainParams":
        if abs(sum(self.split) - 1.0) > 1e-6 or min(self.split) <= 0:
            raise ValueError(f"split must be three positive fractions summing to 1, got {list(self.split)}")
        return self


class DirectionalExpectation(_Section):
    """A declared expectation: shifting `feature` by `delta` moves the mean prediction `direction` (or not at all)."""
    feature: str = Field(description="Numeric contract feature to shift (clipped to its contract range)")
    delta: float = Field(description="Amount added to the feature")
    direction: Literal["up", "down"] = Field(description="Way the mean prediction must move (or stay)")


class InvarianceParams(_Section):
    """Columns the model must ignore: shuffling each must not move any prediction."""
    columns: list[str] = Field([], description="Columns shuffled one at a time on the test split")
    tolerance: float = Field(default=1e-6, ge=0, description="Largest allowed change of any prediction")


class RobustnessParams(_Section):
    """Robustness curves: test AUC under each perturbation at each strength."""
    gaussian_noise: list[float] = Field([0.1, 0.25, 0.5, 1.0], description="Noise on numeric features, "
                                        "x each feature's std")
    missing: list[float] = Field([0.1, 0.25, 0.5], description="Share of numeric cells set missing")
    category_corruption: list[float] = Field([0.1, 0.25, 0.5], description="Share of categorical cells replaced")
    fgsm: list[float] = Field([0.01, 0.05, 0.1, 0.2], description="FGSM step on the network's numeric inputs, "
                              "in standardised units")
    rows: int = Field(default=20000, gt=0, description="Test rows sampled for the curves")


class EvaluateParams(_Section):
    """Test-split evaluation of the challenger: metrics with intervals, calibration, slices, fairness, behaviour."""
    min_slice_support: int = Field(50, ge=1, description="Slices (and crosses) with fewer test rows get no AUC; "
                                   "fairness groups with fewer are skipped")
    slice_tolerance: float = Field(default=0.02, ge=0, description="A slice is weak when its AUC interval lies "
                                   "entirely below the overall AUC - this")
    slice_crosses: bool = Field(True, description="Also evaluate pairwise crosses of the slice columns")
    bootstrap: int = Field(default=200, ge=20, description="Bootstrap resamples for the 95% intervals")
    ece_bins: int = Field(default=15, ge=2, description="Equal-mass bins of the calibration error and curve")
    cost_fp: float | None = Field(default=None, ge=0, description="Cost of a false positive; with cost_fn the "
                                  "threshold minimises expected cost, else it maximises F1 on the validation split")
    cost_fn: float | None = Field(default=None, ge=0, description="Cost of a false negative (set with cost_fp)")
    sensitive: list[str] = Field([], description="Categorical features whose groups' selection rate and TPR "
                                 "gaps are reported")
    invariance: InvarianceParams = Field(InvarianceParams(), description="Columns that must not move any prediction")
    directional: list[DirectionalExpectation] = Field([], description="Declared expectations on the mean "
                                                      "prediction")
    robustness: RobustnessParams = Field(RobustnessParams(), description="Perturbation strengths of the "
                                         "robustness curves")
    membership_rows: int = Field(5000, ge=0, description="Rows of the train split (at most 5%) held out of fitting as "
                                 "the membership-inference attack's non-members, against as many training rows "
                                 "(0: no audit)")

    @model_validator(mode="after")
    def _costs_together(self) -> "EvaluateParams":
        if (self.cost_fp is None) != (self.cost_fn is None):
            raise ValueError("set both cost_fp and cost_fn (cost-based threshold) or neither (max F1)")
        return self


class StudentParams(_Section):
    """A smaller network distilled from the teacher's soft labels, benchmarked as a serving variant."""
    enabled: bool = Field(True, description="Distil and benchmark the student")
    hidden: list[int] = Field(default=[16], min_length=1, description="Hidden layer widths of the student")
    epochs: int = Field(default=4, gt=0, description="Distillation epochs")


class BenchmarkParams(_Section):
    """Accelerator benchmark and serving recommendation (accelops.serving)."""
    enabled: bool = Field(True, description="Benchmark the serving variants after evaluation (false: skipped, "
                          "and the gate ignores serving)")
    batch_sizes: list[int] = Field(default=[1, 32, 256, 1024, 8192, 65536], min_length=1,
                                   description="Batch sizes timed for every variant")
    runtimes: list[Literal["eager", "compile", "onnxruntime"]] = Field(
        ["eager", "compile", "onnxruntime"], description="Runtimes tried (torch.compile costs ~18 s once per model "
        "on 2 cores)")
    precisions: list[Literal["fp32", "bf16", "fp16", "int8"]] = Field(
        ["fp32", "bf16", "fp16", "int8"], description="Precisions tried; each kept only where the device runs it "
        "natively")
    devices: list[Literal["auto", "cpu", "cuda"]] = Field(["auto"], description="Devices tried; auto = every "
                                                          "device present")
    student: StudentParams = Field(StudentParams(), description="The distilled student variant")
    threads: int = Field(default=0, ge=0, description="CPU threads while timing (0 = one per available core)")
    scale_rows: int = Field(default=100_000, gt=0, description="Data size (training-set rows) at which the "
                            "benchmark spends its full budget; below it compile runtimes are skipped (their one-off "
                            "cost is not paid back), batch sizes above the data's rows are dropped and each cell's "
                            "timing budget shrinks in proportion (min_repeats still timed)")
    warmup: int = Field(default=5, ge=1, description="Untimed calls before each (variant, batch size) cell")
    min_repeats: int = Field(default=10, ge=3, description="Fewest timed calls per cell")
    max_seconds_per_cell: float = Field(default=0.15, gt=0, description="Timing budget per cell: calls repeat "
                                        "past min_repeats until this many seconds")
    price_per_hour: dict[str, float] = Field({"cpu": 0.085, "cuda": 3.72, "mps": 0.0}, description="USD per "
                                             "device-hour for the cost per million rows (a device not listed "
                                             "uses the cpu price)")
    online_p99_ms: float = Field(default=2.0, gt=0, description="Online objective: p99 latency at batch 1, in ms")
    max_auc_drop: float = Field(default=0.002, ge=0, description="Accuracy tolerance: AUC drop vs fp32 torch eager "
                                "on the test split")
    max_prob_diff: float = Field(default=0.02, ge=0, description="Accuracy tolerance: largest probability "
                                 "difference vs fp32 torch eager")
    gate: bool = Field(True, description="A challenger with no variant meeting the online objective is not "
                       "promoted")

    @model_validator(mode="after")
    def _priced(self) -> "BenchmarkParams":
        if missing := {"cpu"} - set(self.price_per_hour):
            raise ValueError(f"price_per_hour needs a price for {sorted(missing)}")
        return self


class GateParams(_Section):
    """The promotion gate's rules (accelops.registry.rules): absolute floors and ceilings that bind every
    candidate, the first model included, and comparisons with @champion re-scored on the same holdout."""
    min_auc_gain: float = Field(0.0, description="The challenger's test AUC must exceed the champion's (re-scored "
                                "on the same holdout) by more than this")
    promote_ties: bool = Field(False, description="Promote a gain of exactly min_auc_gain (a tie); off: ties keep "
                               "the champion")
    tolerance: float = Field(0.01, ge=0, description="Non-inferiority margin: the lower bound of the paired-bootstrap "
                             "95% interval of the AUC gain must be above -tolerance")
    slice_tolerance: float = Field(0.02, ge=0, description="Per slice value with at least evaluate.min_slice_support "
                                   "rows: fail when its AUC gain is below -slice_tolerance or its 95% interval lies "
                                   "entirely below zero")
    bootstrap: int = Field(200, ge=20, description="Paired bootstrap resamples (the same resamples for both models)")
    min_auc: float | None = Field(0.6, ge=0, le=1, description="Floor on the test ROC-AUC, for every candidate "
                                  "(null: no floor)")
    min_pr_auc: float | None = Field(None, ge=0, le=1, description="Floor on the test PR-AUC (null: no floor)")
    max_ece: float | None = Field(0.05, ge=0, description="Ceiling on the expected calibration error after "
                                  "temperature scaling, beyond the floor sampling noise gives a perfectly calibrated "
                                  "model with the same predictions on as many test rows (null: no ceiling)")
    max_fairness_gap: float | None = Field(0.2, ge=0, description="Ceiling on the largest demographic-parity or "
                                           "equal-opportunity difference over evaluate.sensitive (null: none)")
    max_robustness_drop: float | None = Field(0.05, ge=0, description="Ceiling on the test AUC drop under each "
                                              "perturbation at its mildest strength (null: none)")
    max_membership_auc: float | None = Field(0.6, ge=0.5, le=1, description="Ceiling on the membership-inference "
                                             "attack's ROC-AUC (loss threshold; 0.5: nothing leaks), for every "
                                             "candidate; fails when its 95% interval lies above it (null: none)")
    dry_run: bool = Field(False, description="Decide and record (DRY_RUN) without moving @champion")


class RegisterParams(_Section):
    """MLflow tracking and the model registry; the promotion gate against @champion."""
    tracking_uri: str | None = Field(None, description="MLflow tracking URI (null = sqlite:///<workdir>/mlflow/"
                                     "mlflow.db)")
    experiment: str = Field(description="MLflow experiment of the training runs (default: accelops-<dataset>)")
    model_name: str = Field(description="Registered model name, @champion its serving alias (default: "
                            "<dataset>-classifier)")
    gate: GateParams = Field(GateParams(), description="The promotion gate's rules")
    approval: Literal["auto", "manual"] = Field("auto", description="auto: a version that passes the gate becomes "
                                                "@champion; manual: it waits as PENDING_APPROVAL for a person's "
                                                "approve/reject in the Prefect UI (the training flow pauses)")
    approval_timeout_s: int = Field(3600, gt=0, description="Seconds the training flow waits for that decision; "
                                    "no decision rejects the version")


class RetrainPolicy(_Section):
    """When drift starts a retraining (accelops.monitoring.policy)."""
    k: int = Field(2, ge=1, description="Retrain when at least k of the last n windows drifted ...")
    n: int = Field(3, ge=1, description="... (windows after the last retraining only)")
    severe_share: float = Field(0.6, gt=0, le=1, description="... or at once when one window's drift share "
                                "reaches this")
    cooldown_hours: float = Field(24.0, ge=0, description="No new retraining this long after the last one")
    max_per_day: int = Field(2, ge=0, description="At most this many retrainings in any 24 hours")
    max_auc_drop: float = Field(0.05, gt=0, lt=1, description="Performance decay, a retraining reason of its "
                                "own: the champion's realised AUC on its last n labelled windows (delayed "
                                "labels) below its test AUC by more than this")
    min_new_labels: int = Field(500, ge=0, description="Drift-triggered retraining waits until at least this "
                                   "many rows of the windows since the last retraining have labels (in the file or "
                                   "landed in monitor.labels): retraining on the old labels alone would learn "
                                   "nothing about the drift")

    @model_validator(mode="after")
    def _k_within_n(self) -> "RetrainPolicy":
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) cannot exceed n ({self.n})")
        return self


class MonitorParams(_Section):
    """Drift detection against the champion's training data, over the files that land in `landing`;
    the demo's new batch."""
    batch_rows: int = Field(20_000, gt=0, description="Rows of the demo's new batch (`make run`)")
    batch_days: int = Field(7, gt=0, description="Days of event time of the demo's new batch")
    batch_scenario: str = Field("covariate_shift", description="Drift scenario of the demo's new batch")
    reference_rows: int = Field(20_000, gt=0, description="At most this many rows sampled from the reference and from "
                                "the batch for the Evidently HTML report (the human view)")
    test_rows: int = Field(1_000_000, gt=0, description="At most this many rows per side for the drift "
                           "statistics that decide (sampled above it)")
    column_threshold: float = Field(0.1, gt=0, description="Effect-size floor: a column drifted when its distance "
                                    "(normalised Wasserstein for numeric, Jensen-Shannon for categorical) is at "
                                    "least this AND its test's p-value is below alpha / columns")
    alpha: float = Field(0.05, gt=0, lt=1, description="False-alarm target per window: the chance that unchanged "
                         "data flags any column (Bonferroni over the columns; KS and chi-square tests)")
    severe_column_threshold: float = Field(0.5, gt=0, description="One drifted column with at least this effect "
                                           "makes the window drifted whatever the share (e.g. a 1-sd shift of one "
                                           "column among 30)")
    severe_share_threshold: float = Field(0.2, gt=0, le=1, description="The same for a categorical column's "
                                          "Jensen-Shannon distance or a numeric column's change in missing share")
    slice_min_rows: int = Field(200, gt=0, description="Per-slice drift on values with at least this many rows "
                                "on both sides")
    drift_share_threshold: float = Field(0.25, ge=0, le=1, description="A window drifted when the share of drifted "
                                         "columns exceeds this")
    landing: str = Field("data/landing", description="Where new data lands: a folder (its .parquet and .csv "
                         "files) or a glob; relative to params.yaml's folder. The scheduled monitoring run "
                         "processes each file once")
    labels: str = Field("data/labels", description="Where delayed labels land: a folder (.parquet and .csv "
                        "files) or a glob of files with the entity id, timestamp and label of scored rows; joined "
                        "to the prediction log for realised performance; relative to params.yaml's folder")
    min_labelled_rows: int = Field(200, gt=0, description="Realised metrics of a window (and of a slice in it) "
                                   "from at least this many labelled rows")
    model_rows: int = Field(20_000, gt=0, description="Rows per side scored by the champion for prediction drift "
                            "and each feature's impact on the mean prediction")
    schedule_minutes: float = Field(60, gt=0, description="Interval of the scheduled monitoring deployment (minutes)")
    settle_seconds: float = Field(5.0, ge=0, description="Files modified more recently are left for the next "
                                  "run (a writer may still be copying them)")
    lease_minutes: float = Field(120.0, gt=0, description="A claim on a file older than this (or whose process "
                                 "died) is taken over: the file is processed again")
    max_attempts: int = Field(2, ge=1, description="Claims of one file before it is quarantined instead of "
                              "retried (a file that crashes the run every time)")
    ledger_url: str | None = Field(None, description="SQLAlchemy URL of the intake ledger and drift windows "
                                   "(null: SQLite in the workdir; e.g. postgresql+psycopg://... in production)")
    policy: RetrainPolicy = Field(RetrainPolicy(), description=RetrainPolicy.__doc__)


class ServeParams(_Section):
    """`accelops serve`: the deployments' schedules and the local Prefect server it starts."""
    training_cron: str = Field("0 2 * * *", description="Cron schedule of the nightly training deployment")
    timezone: str = Field("UTC", description="IANA time zone of training_cron (e.g. Europe/Berlin)")
    port: int = Field(4200, gt=0, lt=65536, description="Port of the local Prefect server (API and UI) that "
                      "`accelops serve` starts on 127.0.0.1 when PREFECT_API_URL is unset")
    stage_timeout_minutes: float = Field(180, gt=0, description="A training-flow stage running longer fails the "
                                         "run (its MLflow run FAILED, @champion unchanged)")
    training_wait_minutes: float = Field(180, ge=0, description="A training flow waits this long for another one "
                                         "running in the same workdir to finish, then fails with WorkdirBusy")

    @model_validator(mode="after")
    def _known_zone(self) -> "ServeParams":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None
        if len(self.training_cron.split()) != 5:
            raise ValueError(f"training_cron {self.training_cron!r} needs five fields (minute hour day month weekday)")
        return self


class OrchestrationParams(_Section):
    """Where the flows' fanned-out tasks run (today: the tuning trials)."""
    task_runner: Literal["threads", "dask"] = Field("threads", description="threads: Prefect's thread pool in the "
                                                    "flow's process; dask: prefect-dask's runner, on a local "
                                                    "cluster or the scheduler at dask_address")
    dask_address: str | None = Field(None, description="tcp://host:8786 of an existing Dask scheduler; null = a "
                                     "local cluster started for the flow and stopped after it")
    dask_workers: int = Field(2, ge=1, description="Worker processes of the local cluster (one thread each)")


class Params(_Section):
    """params.yaml: one section per stage."""
    profile: Literal["local", "server"] = Field("local", description="local: every backend embedded in the workdir "
                                                "(SQLite MLflow, Feast registry file, SQLite online store and ledger); "
                                                "server: shared servers, each named in its key "
                                                "(register.tracking_uri: an MLflow tracking server; features.registry: "
                                                "Feast's SQL registry; features.online_store: redis; "
                                                "monitor.ledger_url), checked before anything runs")
    paths: PathsParams = Field(PathsParams(), description=PathsParams.__doc__)
    dataset: Contract = Field(description="The dataset contract: key columns, features with their bounds or "
                              "values, slices, PII and free-text columns")
    generate: GenerateParams = Field(GenerateParams(), description=GenerateParams.__doc__)
    # `register`/`validate` clash with BaseModel names
    validate_: ValidateParams = Field(ValidateParams(), alias="validate", description=ValidateParams.__doc__)
    pii: PiiParams = Field(PiiParams(), description=PiiParams.__doc__)
    features: FeaturesParams = Field(description=FeaturesParams.__doc__ + " Names and the view default from "
                                     "dataset.name")
    train: TrainParams = Field(TrainParams(), description=TrainParams.__doc__)
    evaluate: EvaluateParams = Field(EvaluateParams(), description=EvaluateParams.__doc__)
    benchmark: BenchmarkParams = Field(BenchmarkParams(), description=BenchmarkParams.__doc__)
    register_: RegisterParams = Field(alias="register", description=RegisterParams.__doc__ + " Names default from "
                                      "dataset.name")
    monitor: MonitorParams = Field(MonitorParams(), description=MonitorParams.__doc__)
    serve: ServeParams = Field(ServeParams(), description=ServeParams.__doc__)
    orchestration: OrchestrationParams = Field(OrchestrationParams(), description=OrchestrationParams.__doc__)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    root: Path = Field(default_factory=Path.cwd, exclude=True, description="Where relative paths are resolved; "
                       "set by load_params (not part of params.yaml)")

    @model_validator(mode="before")
    @classmethod
    def _names_from_the_dataset(cls, data: object) -> object:
        """Names a user need not invent: the Feast project, entity, view and feature service, the MLflow
        experiment and model derive from dataset.name (nothing of the demo's churn setup leaks into
        another table's runs); keys given in params.yaml win."""
        if not isinstance(data, dict) or not isinstance(data.get("dataset"), dict):
            return data
        dataset = data["dataset"]
        name = re.sub(r"[^a-z0-9_]+", "_", str(dataset.get("name", "")).lower()).strip("_") or "dataset"
        name = name if name[0].isalpha() else f"d_{name}"
        features = dict(data.get("features") or {})
        features.setdefault("project", name)
        features.setdefault("entity", str(dataset.get("entity_id", "entity")))
        features.setdefault("feature_service", f"{name}_model_v1")
        if not features.get("views"):
            try:
                windows = WindowParams.model_validate(features["windows"]).columns() if features.get("windows") else {}
            except ValidationError:
                windows = {}                  # reported under features.windows
            columns = [*(dataset.get("numeric_features") or {}), *(dataset.get("categorical_features") or {}),
                       *windows]
            features["views"] = {f"{name}_features": {"ttl_days": 3650, "features": columns,
                                                      "description": f"every feature of {name}"}}
        register = dict(data.get("register") or {})
        register.setdefault("experiment", f"accelops-{name}")
        register.setdefault("model_name", f"{name.replace('_', '-')}-classifier")
        return {**data, "features": features, "register": register}

    @model_validator(mode="after")
    def _evaluation_matches_contract(self) -> "Params":
        _raise_all(self.problems())
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Every key that names a column the contract does not have (or of the wrong kind), and every
        backend the server profile lacks, as (key, message): reported together, before any stage runs."""
        return column_problems(self.dataset, self.evaluate, self.features) + self.profile_problems()

    def profile_problems(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        urls = {"register.tracking_uri": self.register_.tracking_uri, "features.registry": self.features.registry,
                "monitor.ledger_url": self.monitor.ledger_url}
        out += [(key, "a password in a URL would be stored and logged: use PGPASSWORD (or the server's own "
                 "credential store) instead") for key, url in urls.items() if url and re.search(r"//[^/@]*:[^/@]*@", url)]
        if self.profile != "server":
            return out
        uri = self.register_.tracking_uri or ""
        if not uri.startswith(("http://", "https://")):
            out.append(("register.tracking_uri", "profile server needs an MLflow tracking server URL (http[s]://host:"
                        f"port, serving artifacts); got {uri or 'null (a SQLite file in the workdir)'}"))
        if not self.features.registry:
            out.append(("features.registry", "profile server needs Feast's SQL registry URL (e.g. postgresql+psycopg://"
                        "user@host:5432/db); null is a file in the workdir"))
        if self.features.online_store != "redis":
            out.append(("features.online_store", f"profile server needs redis (got {self.features.online_store!r}, "
                        "a SQLite file in the workdir)"))
        if not self.monitor.ledger_url:
            out.append(("monitor.ledger_url", "profile server needs the ledger's SQLAlchemy URL (e.g. postgresql+"
                        "psycopg://user@host:5432/db); null is a SQLite file in the workdir"))
        return out

    @property
    def model_contract(self) -> Contract:
        """The contract as the model sees it: the contract's features plus the windowed aggregates
        (numeric; counts bounded below by 0, means by their column's bounds). Validation, PII and
        drift use `dataset`; training, evaluation, serving and registration use this."""
        w = self.features.windows
        if w is None:
            return self.dataset
        bounds = {name: ((0.0, None) if col is None else self.dataset.numeric_features[col])
                  for name, col in w.columns().items()}
        return self.dataset.model_copy(update={"numeric_features": {**self.dataset.numeric_features, **bounds}})

    @property
    def layout(self) -> "Layout":
        from accelops.layout import Layout

        return Layout.resolve(self.root, workdir=self.paths.workdir, history=self.paths.history,
                              feature_repo=self.paths.feature_repo, reference=self.paths.reference)

    @property
    def landing(self) -> Path:
        """monitor.landing resolved from params.yaml's folder (a folder or a glob pattern)."""
        path = Path(self.monitor.landing)
        return path if path.is_absolute() else self.root / path

    @property
    def labels(self) -> Path:
        """monitor.labels resolved from params.yaml's folder (a folder or a glob pattern)."""
        path = Path(self.monitor.labels)
        return path if path.is_absolute() else self.root / path

    def replace(self, **sections: object) -> "Params":
        """A copy with whole sections or nested keys replaced, e.g. replace(train={"epochs": 2})."""
        data = self.model_dump(by_alias=True)
        for name, value in sections.items():
            key = name.rstrip("_")
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return Params.model_validate({**data, "root": self.root})


def column_problems(c: "Contract", e: "EvaluateParams | None", f: "FeaturesParams | None") -> list[tuple[str, str]]:
    """(key, message) for every key of `e` and `f` that names a column `c` does not have or of the wrong
    kind (a section that did not validate is None and skipped)."""
    out: list[tuple[str, str]] = []
    if e is not None:
        if unknown := sorted(set(e.sensitive) - set(c.categorical_features)):
            out.append(("evaluate.sensitive", f"must be categorical features; unknown: {unknown}"))
        if unknown := sorted({d.feature for d in e.directional} - set(c.numeric_features)):
            out.append(("evaluate.directional", f"features must be numeric features; unknown: {unknown}"))
        if unknown := sorted(set(e.invariance.columns) - (set(c.columns) - {c.label})):
            out.append(("evaluate.invariance.columns", f"must be contract columns (not the label); unknown: {unknown}"))
    if f is None:
        return out
    w = f.windows
    if w is not None and (unknown := sorted(set(w.mean) - set(c.numeric_features))):
        out.append(("features.windows.mean", f"must be numeric contract features; unknown: {unknown}"))
    if w is not None and (clash := sorted(set(w.columns()) & (set(c.feature_columns) | {c.entity_id, c.timestamp, c.label}))):
        out.append(("features.windows", f"aggregate names clash with contract columns: {clash}"))
    if any(k.startswith("features.windows") for k, _ in out):      # the model's columns need sound windows
        return out
    model = [*c.feature_columns, *(w.columns() if w is not None else [])]
    placed = [x for v in f.views.values() for x in v.features]
    if twice := sorted({x for x in placed if placed.count(x) > 1}):
        out.append(("features.views", f"each feature belongs to one view; in several: {twice}"))
    if unknown := sorted(set(placed) - set(model)):
        out.append(("features.views", f"neither contract features nor windowed aggregates: {unknown}"))
    if unplaced := [x for x in model if x not in placed]:
        out.append(("features.views", f"features in no view: {unplaced}"))
    return out


def _section_problems(raw: dict) -> list[str]:
    """The cross-key checks on the sections that validate on their own, for a file whose other sections
    did not (pydantic skips whole-file checks then): every problem is reported in one go."""
    def section(model, name):
        try:
            return model.model_validate(raw.get(name) or {})
        except (ValidationError, TypeError):
            return None

    try:
        contract = Contract.model_construct(**{k: v for k, v in (raw.get("dataset") or {}).items()})
        contract.columns                      # noqa: B018  (raises when a key column is missing)
    except (AttributeError, TypeError):
        return []
    found = column_problems(contract, section(EvaluateParams, "evaluate"), section(FeaturesParams, "features"))
    return [f"  {key}: {message}" for key, message in found]


def default_params_path() -> Path:
    return Path(os.environ.get(PARAMS_ENV) or "params.yaml")


def load_params(path: str | Path | None = None) -> Params:
    """Read and validate params.yaml; errors name the file, the key and the problem."""
    path = Path(path) if path else default_params_path()
    params = parse_params(read_raw(path), root=path.resolve().parent, source=str(path))
    missing = [f"  paths.{key}: {where} does not exist (relative paths are resolved from {path.resolve().parent})"
               for key, where in (("feature_repo", params.layout.feature_repo),
                                  ("reference", params.layout.reference_data if params.paths.reference else None))
               if where is not None and not Path(where).exists()]
    if missing:
        raise ConfigError(f"{path}: invalid parameters:\n" + "\n".join(missing))
    return params


def read_raw(path: Path) -> dict:
    """params.yaml as written (a mapping of sections, not validated); errors name the file."""
    if not path.is_file():
        raise ConfigError(f"{path}: parameters file not found (set {PARAMS_ENV} or run from the project root)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return raw


def parse_params(raw: dict, root: Path, source: str = "params") -> Params:
    """Params from a params.yaml mapping; ConfigError lists every problem at once, each under its key."""
    try:
        return Params.model_validate({**raw, "root": root})
    except ValidationError as exc:
        error = _invalid(exc, source)
        seen = str(error).splitlines()
        extra = [line for line in _section_problems(raw) if line not in seen]
        raise ConfigError("\n".join([*seen, *extra])) from None


def load_section(name: str, path: str | Path | None = None, **given: object) -> BaseModel:
    """Section `name` of params.yaml validated on its own, with each `given` value that is not None
    on top, and the model's defaults for keys neither sets (for commands that need one section).
    Without `path`, params.yaml is read when it exists (ACCELOPS_PARAMS names another file)."""
    field = next((f for key, f in Params.model_fields.items() if (f.alias or key) == name), None)
    if field is None or name == "root":
        raise ConfigError(f"{name!r} is not a params.yaml section")
    file = Path(path) if path else default_params_path()
    read = bool(path) or PARAMS_ENV in os.environ or file.is_file()
    values = {**((read_raw(file).get(name) or {}) if read else {}),
              **{key: value for key, value in given.items() if value is not None}}
    try:
        return field.annotation.model_validate(values)
    except ValidationError as exc:
        raise _invalid(exc, str(file) if read else "model defaults (no params.yaml)", prefix=name) from None


def _invalid(exc: ValidationError, source: str, prefix: str = "") -> ConfigError:
    """One error listing every problem under its params.yaml key (dotted; `<top>` for the whole file).
    A cross-key check reports several problems, a line each, under the keys it names."""
    problems = []
    for err in exc.errors():
        key = ".".join(p for p in (prefix, *map(str, err["loc"])) if p)
        key = key.replace("validate_", "validate").replace("register_", "register")
        if err["type"] == "value_error" and PROBLEMS in err["msg"]:
            for line in err["msg"].split(PROBLEMS, 1)[1].strip().splitlines():
                sub, _, message = line.partition(": ")
                sub = "" if sub.startswith("<") else sub
                problems.append(f"  {'.'.join(p for p in (key, sub) if p) or '<top>'}: {message}")
            continue
        got = f" (got {err['input']!r})" if err["type"] != "missing" and not isinstance(err["input"], dict) else ""
        problems.append(f"  {key or '<top>'}: {err['msg']}{got}")
    return ConfigError(f"{source}: invalid parameters:\n" + "\n".join(problems))


def params_schema() -> dict:
    """JSON schema of params.yaml from the model (descriptions, defaults, bounds) for editors; committed
    as params.schema.json and regenerated with `accelops params schema --out params.schema.json`."""
    schema = Params.model_json_schema(by_alias=True)
    del schema["properties"]["root"]        # set by load_params, not written in params.yaml
    # filled from dataset.name when absent (Params._names_from_the_dataset)
    schema["required"] = [k for k in schema["required"] if k not in ("features", "register")]
    for name in ("FeaturesParams", "RegisterParams"):
        section = schema["$defs"][name]
        section["required"] = [k for k in section.get("required", [])
                               if k not in ("project", "entity", "views", "feature_service", "experiment",
                                            "model_name")]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "accelops params.yaml"}
