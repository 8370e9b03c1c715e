"""Shared fixtures: small data and params pointing every path at a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import write_params

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


@pytest.fixture
def redis_server():
    """A real Redis server on 127.0.0.1 and a free port, stopped by the test; yields "host:port"."""
    from accelops.features.redis_local import local_redis

    with local_redis() as address:
        yield address
