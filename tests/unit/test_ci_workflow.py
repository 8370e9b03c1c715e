"""The GitHub Actions workflow cannot run here: it is validated against GitHub's workflow schema
(check-jsonschema's vendored copy, offline) and its load-bearing steps are checked."""

import subprocess
import sys
from pathlib import Path

import yaml

from helpers import REPO

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def test_the_workflow_meets_githubs_schema():
    res = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                          "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_broken_workflow_is_caught(tmp_path):
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1))
    res = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                          "vendor.github-workflows", str(broken)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "runs_on" in res.stdout + res.stderr


def test_pull_requests_test_and_dry_run_and_main_rolls_back_a_failed_check():
    flow = yaml.safe_load(WORKFLOW.read_text())
    test, deploy = flow["jobs"]["test"], flow["jobs"]["deploy"]
    assert set(test["services"]) == {"postgres", "redis"}
    runs = [s.get("run", "") for s in test["steps"]]
    assert any("bash .ci/run" in r for r in runs) and any("accelops run training --data" in r for r in runs)
    steps = {s.get("name"): s for s in deploy["steps"]}
    assert "accelops deploy --pool" in steps["Register the deployments on the work pool"]["run"]
    rollback = steps["Roll back when the check failed"]
    assert "steps.check.outcome == 'failure'" in rollback["if"] and "accelops rollback" in rollback["run"]
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
