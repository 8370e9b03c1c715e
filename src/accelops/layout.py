"""Every file the pipeline reads or writes, derived from params (one place)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from accelops.config import WORKDIR_ENV

if TYPE_CHECKING:
    from accelops.config import Params


class Layout(BaseModel):
    """Every file the pipeline reads or writes, derived from params (one place)."""

    model_config = ConfigDict(frozen=True)
    root: Path
    workdir: Path
    history: Path
    feature_repo: Path

    @classmethod
    def from_params(cls, params: Params) -> "Layout":
        root = params.root
        workdir = Path(os.environ.get(WORKDIR_ENV) or params.paths.workdir)
        return cls(
            root=root,
            workdir=workdir if workdir.is_absolute() else root / workdir,
            history=_abs(root, params.paths.history),
            feature_repo=_abs(root, params.paths.feature_repo),
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
