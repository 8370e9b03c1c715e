"""Every file the pipeline reads or writes, derived from params (one place).

Imports nothing from accelops: `Params.layout` resolves params.yaml's `paths` section through
`Layout.resolve`, so config sits above this module and never in a cycle with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

WORKDIR_ENV = "ACCELOPS_WORKDIR"


class Layout(BaseModel):
    """Every file the pipeline reads or writes, derived from params (one place)."""

    model_config = ConfigDict(frozen=True)
    root: Path
    workdir: Path
    history: Path
    feature_repo: Path

    @classmethod
    def resolve(cls, root: Path, workdir: str, history: str, feature_repo: str) -> "Layout":
        """Absolute paths from params.yaml's `paths` (relative ones are under `root`, the folder of
        params.yaml); ACCELOPS_WORKDIR, when set, replaces the workdir."""
        work = Path(os.environ.get(WORKDIR_ENV) or workdir)
        return cls(
            root=root,
            workdir=work if work.is_absolute() else root / work,
            history=_abs(root, history),
            feature_repo=_abs(root, feature_repo),
        )

    # pipeline files (DVC outputs)
    @property
    def validated(self) -> Path:
        return self.workdir / "data" / "validated.parquet"

    @property
    def features_table(self) -> Path:
        return self.workdir / "data" / "features.parquet"

    @property
    def training_set(self) -> Path:
        return self.workdir / "data" / "training_set.parquet"

    @property
    def model_dir(self) -> Path:
        return self.workdir / "model"

    @property
    def reference_profile(self) -> Path:
        """Statistics of the first accepted training data: the suite's reference bounds."""
        return self.workdir / "reference" / "profile.json"

    @property
    def serving_dir(self) -> Path:
        """The benchmark's serving.json (recommended variants) and the distilled student."""
        return self.workdir / "serving"

    @property
    def predictions(self) -> Path:
        return self.workdir / "data" / "test_predictions.parquet"

    @property
    def valid_predictions(self) -> Path:
        return self.workdir / "data" / "valid_predictions.parquet"

    @property
    def evaluation_dir(self) -> Path:
        return self.reports / "evaluation"

    @property
    def reports(self) -> Path:
        return self.workdir / "reports"

    @property
    def metrics_file(self) -> Path:
        return self.reports / "metrics.json"

    @property
    def registration_file(self) -> Path:
        return self.reports / "registration.json"

    @property
    def drift_decision_file(self) -> Path:
        return self.reports / "monitoring" / "last_decision.json"

    # tool state
    @property
    def mlflow_dir(self) -> Path:
        return self.workdir / "mlflow"

    @property
    def feast_dir(self) -> Path:
        return self.workdir / "feast"

    @property
    def prefect_home(self) -> Path:
        return self.workdir / "prefect"

    @property
    def pii_key_file(self) -> Path:
        return self.workdir / "secrets" / "pii_hmac.key"


def _abs(root: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p
