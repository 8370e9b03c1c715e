"""Fetch a registered model's files (`models:/NAME@ALIAS` or `models:/NAME/VERSION`) into a local
folder: the network directory and, when the version was benchmarked, its serving directory."""

from __future__ import annotations

from pathlib import Path

from accelops.config import Params
from accelops.errors import RegistryError


def fetch_model(params: Params, uri: str, dest: Path) -> tuple[Path, Path | None]:
    """(model_dir, serving_dir or None) of `uri`, downloaded under `dest`."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from accelops.registry import tracking

    if not uri.startswith("models:/"):
        raise RegistryError(f"{uri!r}: expected models:/NAME@ALIAS or models:/NAME/VERSION")
    tracking.connect(params)
    try:
        local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(dest)))
    except MlflowException as exc:
        raise RegistryError(f"{uri}: {exc.message}") from None
    artifacts = _artifact_paths(local)
    if "model_dir" not in artifacts:
        raise RegistryError(f"{uri}: not an accelops model (no model_dir artifact in {local / 'MLmodel'})")
    serving = artifacts.get("serving_dir")
    return local / artifacts["model_dir"], (local / serving) if serving else None


def _artifact_paths(local: Path) -> dict[str, str]:
    import yaml

    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    arts = mlmodel.get("flavors", {}).get("python_function", {}).get("artifacts") or {}
    return {k: v["path"] if isinstance(v, dict) else str(v) for k, v in arts.items()}
