"""dvc.yaml reproduces the stages through `accelops stage NAME`; a second repro skips everything."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SMALL

pytestmark = pytest.mark.heavy


def _sh(*cmd, cwd, env):
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout + res.stderr


def test_dvc_repro_runs_every_stage_then_skips_them(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "dvc.yaml", project)
    shutil.copytree(REPO / "feature_repo", project / "feature_repo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in SMALL.items():
        raw[section].update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (project / ".gitignore").write_text(".accelops/\n")

    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELOPS_")}
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    dvc = str(Path(bin_dir) / "dvc")
    _sh("git", "init", "-q", cwd=project, env=env)
    _sh(dvc, "init", "-q", cwd=project, env=env)
    _sh(dvc, "config", "core.analytics", "false", cwd=project, env=env)

    first = _sh(dvc, "repro", cwd=project, env=env)
    stages = list(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])
    for stage in stages:
        assert f"Running stage '{stage}'" in first
    assert (project / ".accelops" / "reports" / "metrics.json").exists()
    assert (project / "dvc.lock").exists()
    mtime = (project / ".accelops" / "model" / "model.pt").stat().st_mtime

    second = _sh(dvc, "repro", cwd=project, env=env)
    for stage in stages:
        assert f"Stage '{stage}' didn't change, skipping" in second
    assert "Running stage" not in second
    assert (project / ".accelops" / "model" / "model.pt").stat().st_mtime == mtime

    metrics = _sh(dvc, "metrics", "show", cwd=project, env=env)
    assert "roc_auc" in metrics
