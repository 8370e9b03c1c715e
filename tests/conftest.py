"""Shared fixtures: small data, params pointing every path at a temporary folder, and one trained
project per session (read-only; `trained_copy` for a test that changes it). Every test is marked
with its folder's kind (unit, integration, flows, reliability): `make test-fast` runs `-m "unit and not slow"`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import Project, copy_project, train_project, write_params

from accelops.runtime import apply_defaults

# Offline, quiet, deterministic tools (accelops.runtime.DEFAULTS); set before anything imports them.
apply_defaults()
os.environ.pop("ACCELOPS_WORKDIR", None)
os.environ.pop("ACCELOPS_PARAMS", None)


KINDS = ("unit", "integration", "flows", "reliability")   # tests/<kind>/ ; each test gets its folder's marker


@pytest.hookimpl(tryfirst=True)          # before `-m` selects by marker
def pytest_collection_modifyitems(config, items):
    root = Path(__file__).parent
    for item in items:
        kind = item.path.relative_to(root).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: tests live under tests/{{{','.join(KINDS)}}}/")
        item.add_marker(kind)


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


@pytest.fixture(scope="session")
def _trained_project(tmp_path_factory) -> Project:
    """generate -> every training stage once per session (small params); fails the session if a test
    changed any of its files: tests that change it use `trained_copy`."""
    project = train_project(tmp_path_factory.mktemp("trained"))
    before = _snapshot(project.folder)
    yield project
    after = _snapshot(project.folder)
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    assert not changed, f"the shared trained project was changed by a test (use trained_copy): {changed}"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file but the tools log (an in-process runtime.configure appends to it)."""
    return {str(f.relative_to(folder)): (f.stat().st_size, f.stat().st_mtime_ns)
            for f in folder.rglob("*") if f.is_file() and f.parent.name != "logs"}


@pytest.fixture
def trained(_trained_project) -> Project:
    """The session's trained project, READ-ONLY, with MLflow's client pointed at its store."""
    from accelops.registry import tracking

    tracking.connect(_trained_project.params)
    return _trained_project


@pytest.fixture
def trained_copy(_trained_project, tmp_path) -> Project:
    """A private copy of the trained project, for a test that changes it; MLflow points at the copy."""
    from accelops.registry import tracking

    project = copy_project(_trained_project, tmp_path / "project")
    tracking.connect(project.params)
    return project
