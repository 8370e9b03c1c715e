"""Named errors. Each quality gate raises one of these with a message a person can act on."""

from __future__ import annotations

import errno
import os


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


STORAGE_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                  errno.EFBIG: "file size limit reached"}


def named_failure(exc: BaseException) -> AccelopsError | None:
    """The named error for a failure that is a dependency's, not ours: the tracking store unreachable
    after its retries (TrackingUnavailable, naming the URI) or a full disk, quota or file-size limit
    (StorageFull, naming the path and the space left there); None for anything else. Looks down the
    exception's causes, since MLflow and Feast wrap what they hit."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, AccelopsError):
            return None                       # already named
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            return StorageFull(_storage_message(exc))
        if _tracking_unreachable(exc):
            return TrackingUnavailable(_tracking_message(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _storage_message(exc: OSError) -> str:
    import shutil
    from pathlib import Path

    target = exc.filename2 or exc.filename       # shutil's copies name the source first, the destination second
    path = Path(target) if target else None
    place = path
    while place is not None and not place.exists() and place != place.parent:
        place = place.parent
    free = ""
    if place is not None and place.exists():
        usage = shutil.disk_usage(place)
        free = f"; {usage.free / 2**20:.1f} MB free of {usage.total / 2**20:.1f} MB there"
    return (f"{path or 'a file'}: {STORAGE_ERRNOS[exc.errno]} ([Errno {exc.errno}]){free}: free space (or raise the "
            "quota) and run again; the next training run closes this one and removes a version it left undecided")


def _tracking_unreachable(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return True
    text = str(exc)
    return type(exc).__name__ == "MlflowException" and any(
        s in text for s in ("Max retries exceeded", "Failed to establish a new connection", "Connection refused",
                            "Read timed out", "Connection aborted"))


def _tracking_message(exc: BaseException) -> str:
    import sys

    uri = sys.modules["mlflow"].get_tracking_uri() if "mlflow" in sys.modules else "the tracking store"
    retries = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")
    text = str(exc)
    why = next((w for k, w in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                               ("Connection aborted", "connection aborted")) if k in text), text.splitlines()[0][:200])
    return (f"MLflow tracking at {uri} did not answer after {retries} retries ({why}; "
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES): start the server (or point register.tracking_uri at one) and run "
            "again; the next training run closes this one and removes a version it left undecided")
