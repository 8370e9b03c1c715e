"""Shared fixtures: small data and params pointing every path at a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

# Offline, quiet, deterministic tools; set before anything imports them.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
os.environ.pop("ACCELOPS_WORKDIR", None)
os.environ.pop("ACCELOPS_PARAMS", None)


def pytest_addoption(parser):
    parser.addoption("--run-heavy", action="store_true", help="run tests marked heavy")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-heavy"):
        return
    skip = pytest.mark.skip(reason="heavy: run with `make test-heavy`")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


SMALL = {
    "generate": {"rows": 4000, "days": 60, "start": "2026-06-01", "seed": 3},
    "train": {"epochs": 4, "threads": 1, "batch_size": 256, "patience": 2},
    "validate": {"min_rows": 50},
    "evaluate": {"min_slice_support": 30},
    "monitor": {"batch_rows": 3000, "batch_days": 7, "reference_rows": 5000},
}


def write_params(folder: Path, **overrides) -> Path:
    """A params.yaml in `folder` with every path inside it and small sizes; returns its path."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["paths"] = {"workdir": str(folder / "work"), "history": str(folder / "history.parquet"),
                    "feature_repo": str(REPO / "feature_repo")}
    for section, values in {**SMALL, **overrides}.items():
        if isinstance(values, dict):
            raw.setdefault(section, {}).update(values)
        else:
            raw[section] = values
    path = folder / "params.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture
def params_path(tmp_path) -> Path:
    return write_params(tmp_path)


@pytest.fixture
def params(params_path):
    from accelops.config import load_params

    return load_params(params_path)


@pytest.fixture(scope="session")
def small_frame():
    from accelops.data.generator import generate

    return generate(4000, 60, "2026-06-01", seed=3).frame
