"""The benchmark scripts run end to end (tiny sizes, CPU) and end with their JSON line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.heavy


def test_gpu_training_script_runs_its_code_path_on_the_device_present(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_training.py"), "--rows", "3000",
                          "--batches", "256", "--steps", "3", "--epochs", "2", "--results", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["bench"] == "gpu_training" and out["figures"]["onnx_max_abs_diff"] <= 1e-5
    assert 0 <= out["figures"]["train_model"]["fp32"]["test_auc"] <= 1
    assert json.loads((tmp_path / "gpu_training_cpu.json").read_text())["device"] == "cpu"
    assert all(r["samples_per_s"] > 0 for r in out["figures"]["loops"])


def test_serving_script_prints_the_table_and_both_targets(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "bench" / "serving.py"), "--rows", "3000", "--score-rows",
                          "5000", "--epochs", "1", "--batch-sizes", "1,64", "--runtimes", "eager,onnxruntime",
                          "--repeats", "1", "--results", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["bench"] == "serving" and "online p50 at batch 1" in res.stdout
    assert out["online"]["ratio"] > 0 and out["batch_scoring"]["speedup"] > 0
    assert len(out["rows"]) == 2 * len(out["variants"])
    assert (tmp_path / f"{'serving_cuda' if out['device'] == 'cuda' else 'serving'}.json").exists()
