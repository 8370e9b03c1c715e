"""Typed parameters (params.yaml); the on-disk layout derived from them is `accelops.layout`.

Nothing here runs at import time. `load_params()` is the only place params.yaml is read;
every stage receives the resulting `Params` object.
"""

from __future__ import annotations

import os
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


class PathsParams(_Section):
    workdir: str = ".accelops"
    history: str = "data/raw/history.parquet"
    feature_repo: str = "feature_repo"


class Contract(_Section):
    """The dataset contract (params.yaml `dataset`): key columns, features with their bounds or
    values, slices, PII and free-text columns. `Params.model_contract` is the same contract as the
    model sees it (plus the windowed aggregates)."""
    name: str = Field(min_length=1)
    entity_id: str
    timestamp: str
    label: str
    positive_label: int = 1
    numeric_features: dict[str, tuple[float | None, float | None]]
    categorical_features: dict[str, list[str]]
    slices: list[str] = []
    pii: list[str] = []
    text: list[str] = []        # free-text columns: kept, with personal data redacted; never features

    @model_validator(mode="after")
    def _consistent(self) -> "Contract":
        if not self.numeric_features and not self.categorical_features:
            raise ValueError("declare at least one numeric or categorical feature")
        features = set(self.numeric_features) | set(self.categorical_features)
        if clash := set(self.numeric_features) & set(self.categorical_features):
            raise ValueError(f"columns declared both numeric and categorical: {sorted(clash)}")
        keys = {self.entity_id, self.timestamp, self.label}
        if len(keys) != 3:
            raise ValueError("entity_id, timestamp and label must be three different columns")
        if clash := keys & features:
            raise ValueError(f"key columns cannot also be features: {sorted(clash)}")
        if unknown := set(self.slices) - set(self.categorical_features):
            raise ValueError(f"slices must be categorical features; unknown: {sorted(unknown)}")
        if clash := set(self.pii) & (features | keys):
            raise ValueError(f"PII columns can never be features or keys: {sorted(clash)}")
        if clash := set(self.text) & (features | keys | set(self.pii)):
            raise ValueError(f"text columns cannot also be features, keys or PII: {sorted(clash)}")
        for name, (lo, hi) in self.numeric_features.items():
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"numeric_features.{name}: min {lo} > max {hi}")
        for name, values in self.categorical_features.items():
            if not values:
                raise ValueError(f"categorical_features.{name}: list at least one value")
        return self

    @property
    def feature_columns(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    @property
    def columns(self) -> list[str]:
        """Every column a raw batch must carry, in a stable order."""
        return [self.entity_id, self.timestamp, *self.feature_columns, *self.pii, *self.text, self.label]


class GenerateParams(_Section):
    rows: int = Field(gt=0)
    days: int = Field(gt=0)
    start: str
    seed: int = 0
    scenario: str = "none"


Severity = Literal["error", "warning"]


class SeverityParams(_Section):
    """Per rule family: an error blocks the batch, a warning is reported and lets it pass."""
    reference_bounds: Severity = "warning"     # column means / quantiles vs the reference profile
    class_balance: Severity = "warning"        # label positive rate vs the reference profile
    unseen_category: Severity = "error"        # a categorical value outside the contract's set
    timestamps: Severity = "error"             # events in the future or older than the window
    near_duplicates: Severity = "warning"      # rows identical on every feature and the label


class ValidateParams(_Section):
    max_null_fraction: float = Field(ge=0, le=1)
    min_rows: int = Field(ge=1)
    max_rows: int | None = Field(default=None, ge=1)
    reference_profile: bool = True              # bounds from the statistics of the first accepted training data
    mean_shift_std: float = Field(default=0.5, gt=0)        # mean within reference mean +- this x reference std
    quantile_shift_std: float = Field(default=1.0, gt=0)    # 5/50/95% quantiles within reference +- this x std
    class_balance_tolerance: float = Field(default=0.05, gt=0, le=1)
    timestamp_window_days: int = Field(default=730, gt=0)  # no event older than now - this
    future_skew_minutes: int = Field(default=5, ge=0)      # no event later than now + this
    max_near_duplicate_fraction: float = Field(default=0.01, ge=0, le=1)
    min_slice_rows: int = Field(default=50, ge=1)           # slice values with fewer rows are reported
    severity: SeverityParams = SeverityParams()
    on_failure: Literal["reject", "partial"] = "reject"   # partial: continue with the rows that pass
    max_rejected_fraction: float = Field(default=0.05, ge=0, le=1)
    pii_threshold: float = Field(default=0.01, gt=0, le=1)  # share of values that makes a column PII
    pii_sample: int = Field(default=5000, gt=0)
    label_check: bool = True                                # confident-learning label-noise check
    label_folds: int = Field(default=5, ge=2)
    max_excess_label_issue_rate: float = Field(default=0.03, ge=0, le=1)  # over the reference data's rate


class PiiParams(_Section):
    policy: Literal["drop", "hash"] = "drop"
    key_env: str = "ACCELOPS_PII_KEY"


class ViewParams(_Section):
    ttl_days: int = Field(gt=0)
    features: list[str] = Field(min_length=1)
    description: str = ""
    max_missing_fraction: float | None = Field(default=None, ge=0, le=1)   # else features.max_missing_fraction


class WindowParams(_Section):
    """Trailing per-entity aggregates, computed point in time at each feature row's timestamp over
    (ts - days, ts]: `events_{d}d` (rows in the window) and `{column}_mean_{d}d` (mean of non-null values)."""
    days: list[int] = Field(min_length=1)
    count: bool = True
    mean: list[str] = []

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
    project: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    entity: str
    views: dict[str, ViewParams] = Field(min_length=1)     # feature views by meaning, each with its TTL
    windows: WindowParams | None = None                    # trailing aggregates (model inputs, in a view)
    feature_service: str
    engine: Literal["asof", "feast"] = "asof"     # point-in-time join engine (definitions always from Feast)
    max_missing_fraction: float = Field(default=0.0, ge=0, le=1)   # entity rows allowed without features
    online_store: Literal["rows", "sqlite", "redis"] = "rows"  # rows: one row per entity (row_store);
    #                                          sqlite: Feast's layout; redis: Feast's Redis store at `redis`
    online_writer: Literal["bulk", "feast"] = "bulk"  # bulk: latest per entity, one executemany; feast: materialize()
    redis: str = Field(default="127.0.0.1:6379", pattern=r"^[^,=\s]+:\d+$")  # host:port; password only from
    #                                          the ACCELOPS_REDIS_PASSWORD environment variable, never in a file


class TrainParams(_Section):
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    threads: int = Field(ge=0)
    seed: int = 42
    split: tuple[float, float, float]
    hidden: list[int] = Field(min_length=1)
    embedding_dim: int = Field(gt=0)
    dropout: float = Field(ge=0, lt=1)
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    patience: int = Field(gt=0)
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    grad_clip: float = Field(default=1.0, gt=0)
    class_weight: Literal["none", "balanced"] = "none"
    baseline_max_iter: int = Field(default=200, gt=0)

    @model_validator(mode="after")
    def _split_sums_to_one(self) -> "TrainParams":
        if abs(sum(self.split) - 1.0) > 1e-6 or min(self.split) <= 0:
            raise ValueError(f"split must be three positive fractions summing to 1, got {list(self.split)}")
        return self


class DirectionalExpectation(_Section):
    feature: str
    delta: float
    direction: Literal["up", "down"]


class InvarianceParams(_Section):
    columns: list[str] = []
    tolerance: float = Field(default=1e-6, ge=0)


class RobustnessParams(_Section):
    gaussian_noise: list[float] = [0.1, 0.25, 0.5, 1.0]     # x each feature's std
    missing: list[float] = [0.1, 0.25, 0.5]                 # share of numeric cells set missing
    category_corruption: list[float] = [0.1, 0.25, 0.5]     # share of categorical cells replaced
    fgsm: list[float] = [0.01, 0.05, 0.1, 0.2]              # step in standardised units
    rows: int = Field(default=20000, gt=0)                  # test rows sampled for robustness


class EvaluateParams(_Section):
    min_slice_support: int = Field(ge=1)
    slice_tolerance: float = Field(default=0.02, ge=0)
    slice_crosses: bool = True
    bootstrap: int = Field(default=200, ge=20)
    ece_bins: int = Field(default=15, ge=2)
    cost_fp: float | None = Field(default=None, ge=0)
    cost_fn: float | None = Field(default=None, ge=0)
    sensitive: list[str] = []
    invariance: InvarianceParams = InvarianceParams()
    directional: list[DirectionalExpectation] = []
    robustness: RobustnessParams = RobustnessParams()

    @model_validator(mode="after")
    def _costs_together(self) -> "EvaluateParams":
        if (self.cost_fp is None) != (self.cost_fn is None):
            raise ValueError("set both cost_fp and cost_fn (cost-based threshold) or neither (max F1)")
        return self


class StudentParams(_Section):
    enabled: bool = True
    hidden: list[int] = Field(default=[16], min_length=1)
    epochs: int = Field(default=4, gt=0)


class BenchmarkParams(_Section):
    """Accelerator benchmark and serving recommendation (accelops.serving)."""
    enabled: bool = True
    batch_sizes: list[int] = Field(default=[1, 32, 256, 1024, 8192, 65536], min_length=1)
    runtimes: list[Literal["eager", "compile", "onnxruntime"]] = ["eager", "compile", "onnxruntime"]
    precisions: list[Literal["fp32", "bf16", "fp16", "int8"]] = ["fp32", "bf16", "fp16", "int8"]
    devices: list[Literal["auto", "cpu", "cuda"]] = ["auto"]      # auto = every device present
    student: StudentParams = StudentParams()
    threads: int = Field(default=0, ge=0)                          # 0 = one per available core
    warmup: int = Field(default=5, ge=1)
    min_repeats: int = Field(default=10, ge=3)
    max_seconds_per_cell: float = Field(default=0.15, gt=0)
    price_per_hour: dict[str, float] = {"cpu": 0.085, "cuda": 3.72, "mps": 0.0}
    online_p99_ms: float = Field(default=2.0, gt=0)                # online objective at batch 1
    max_auc_drop: float = Field(default=0.002, ge=0)               # accuracy tolerance vs fp32 eager
    max_prob_diff: float = Field(default=0.02, ge=0)
    gate: bool = True                # a challenger with no variant meeting the online objective is not promoted

    @model_validator(mode="after")
    def _priced(self) -> "BenchmarkParams":
        if missing := {"cpu"} - set(self.price_per_hour):
            raise ValueError(f"price_per_hour needs a price for {sorted(missing)}")
        return self


class RegisterParams(_Section):
    tracking_uri: str | None = None
    experiment: str
    model_name: str
    min_auc_gain: float = 0.0


class MonitorParams(_Section):
    batch_rows: int = Field(gt=0)
    batch_days: int = Field(gt=0)
    batch_scenario: str = "covariate_shift"
    reference_rows: int = Field(gt=0)
    column_threshold: float = Field(gt=0)
    drift_share_threshold: float = Field(ge=0, le=1)


class Params(_Section):
    paths: PathsParams = PathsParams()
    dataset: Contract
    generate: GenerateParams
    validate_: ValidateParams = Field(alias="validate")
    pii: PiiParams = PiiParams()
    features: FeaturesParams
    train: TrainParams
    evaluate: EvaluateParams
    benchmark: BenchmarkParams = BenchmarkParams()
    register_: RegisterParams = Field(alias="register")  # `register`/`validate` clash with BaseModel names
    monitor: MonitorParams

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # Where relative paths are resolved; set by load_params (not part of params.yaml).
    root: Path = Field(default_factory=Path.cwd, exclude=True)

    @model_validator(mode="after")
    def _evaluation_matches_contract(self) -> "Params":
        c, e = self.dataset, self.evaluate
        if unknown := set(e.sensitive) - set(c.categorical_features):
            raise ValueError(f"evaluate.sensitive must be categorical features; unknown: {sorted(unknown)}")
        if unknown := {d.feature for d in e.directional} - set(c.numeric_features):
            raise ValueError(f"evaluate.directional features must be numeric features; unknown: {sorted(unknown)}")
        w = self.features.windows
        if w is not None and (unknown := sorted(set(w.mean) - set(c.numeric_features))):
            raise ValueError(f"features.windows.mean must be numeric contract features; unknown: {unknown}")
        if w is not None and (clash := sorted(set(w.columns()) & (set(c.feature_columns) | {c.entity_id, c.timestamp, c.label}))):
            raise ValueError(f"features.windows: aggregate names clash with contract columns: {clash}")
        model = self.model_contract.feature_columns
        placed = [f for v in self.features.views.values() for f in v.features]
        if twice := sorted({f for f in placed if placed.count(f) > 1}):
            raise ValueError(f"features.views: each feature belongs to one view; in several: {twice}")
        if unknown := sorted(set(placed) - set(model)):
            raise ValueError(f"features.views: neither contract features nor windowed aggregates: {unknown}")
        if unplaced := [f for f in model if f not in placed]:
            raise ValueError(f"features.views: features in no view: {unplaced}")
        return self

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
                              feature_repo=self.paths.feature_repo)

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


def default_params_path() -> Path:
    return Path(os.environ.get(PARAMS_ENV) or "params.yaml")


def load_params(path: str | Path | None = None) -> Params:
    """Read and validate params.yaml; errors name the file, the key and the problem."""
    path = Path(path) if path else default_params_path()
    if not path.is_file():
        raise ConfigError(f"{path}: parameters file not found (set {PARAMS_ENV} or run from the project root)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return parse_params(raw, root=path.resolve().parent, source=str(path))


def parse_params(raw: dict, root: Path, source: str = "params") -> Params:
    try:
        return Params.model_validate({**raw, "root": root})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]).replace("validate_", "validate").replace("register_", "register") or "<top>"
            got = f" (got {err['input']!r})" if err["type"] != "missing" and not isinstance(err["input"], dict) else ""
            problems.append(f"  {key}: {err['msg']}{got}")
        raise ConfigError(f"{source}: invalid parameters:\n" + "\n".join(problems)) from None
