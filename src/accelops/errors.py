"""Named errors. Each quality gate raises one of these with a message a person can act on."""

from __future__ import annotations


class AccelopsError(Exception):
    """Base class for every error accelops raises on purpose."""


class ConfigError(AccelopsError):
    """params.yaml is missing, malformed, or inconsistent."""


class DataFormatError(AccelopsError):
    """A data file cannot be read as a table of the contract (names the file and the problem)."""


class DataValidationError(AccelopsError):
    """A batch failed its expectations; `failures` lists each failed rule."""

    def __init__(self, path: str, failures: list[dict]):
        self.path = path
        self.failures = failures
        lines = [f"{path}: {len(failures)} expectation(s) failed:"]
        for f in failures:
            col = f.get("column") or ",".join(f.get("columns", [])) or "<table>"
            lines.append(f"  - column {col}: {f['rule']}: {f['observed']} (expected {f['expected']})")
        super().__init__("\n".join(lines))


class FeatureStoreError(AccelopsError):
    """Feast could not apply definitions or build a training set as required."""


class TrainingError(AccelopsError):
    """Training could not produce a usable model (e.g. one class in the training split)."""


class RegistryError(AccelopsError):
    """MLflow registration or the promotion gate failed."""


class StageInputMissing(AccelopsError):
    """A stage was run before the stage that produces its input."""


class PiiDetectedError(AccelopsError):
    """A column not declared as PII (or free text) contains personal data."""

    def __init__(self, path: str, findings: list[dict]):
        self.path = path
        self.findings = findings
        cols = "; ".join(f"column {f['column']}: {f['detector']} in {f['share']:.1%} of sampled values"
                         for f in findings)
        super().__init__(f"{path}: undeclared personal data: {cols} "
                         "(declare the column under dataset.pii or dataset.text, or remove it)")


class LabelQualityError(AccelopsError):
    """Likely flipped or poisoned labels well above the rate of the accepted reference data."""


class RetrainingFailed(AccelopsError):
    """Monitoring decided to retrain and the retraining failed (the files it checked stay checked)."""


class ServingError(AccelopsError):
    """A serving variant cannot be built or run here, or a benchmark input is missing."""


class EntityIdError(AccelopsError):
    """Entity ids asked for scoring are not valid: none, not 64-bit integers, or one given twice."""


class ModelLoadError(AccelopsError):
    """A saved model file is not one accelops may load (unknown types in a skops file, say)."""


class WorkdirBusy(AccelopsError):
    """Another training flow holds the workdir longer than serve.training_wait_minutes."""


class TrackingUnavailable(AccelopsError):
    """The MLflow tracking store did not answer within its retries (a server stopped or unreachable)."""


class StorageFull(AccelopsError):
    """A write failed because its disk, quota or file-size limit is full (names the path and the space left)."""
