"""The benchmark stage on the trained model: the variant table (timings, accuracy deltas, cost), its
files, the recommendation logged to MLflow, and the scorer serving what it recommends."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from accelops.serving.recommend import cost_per_million
from accelops.serving.variants import REFERENCE
from accelops.training.model_folder import onnx_path, serving_file, student_dir
from accelops.training.predict import Predictor

CUDA = torch.cuda.is_available()


def test_benchmark_table_accuracy_and_outputs(trained):
    params, out = trained.params, trained.out
    lay = params.layout
    result = out["benchmark"].model_dump()
    bench = params.benchmark
    assert len(result["rows"]) == len(result["variants"]) * len(bench.batch_sizes)
    by = {(r["variant"], r["batch_size"]): r for r in result["rows"]}
    ref = by[(REFERENCE.name, 1)]
    assert ref["auc_drop"] == 0.0 and ref["max_prob_diff"] == 0.0 and ref["auc"] == result["reference_auc"]
    assert by[("teacher/onnxruntime/fp32/cpu", 1)]["max_prob_diff"] < 1e-5      # same network, other runtime
    int8 = by[("teacher/eager/int8/cpu", 256)]
    assert 0 < int8["max_prob_diff"] < 0.2                                     # quantisation moves outputs a bit
    assert result["student"]["parameters"] < result["student"]["teacher_parameters"]
    for r in result["rows"]:
        assert r["repeats"] >= bench.min_repeats and r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
        price = bench.price_per_hour[r["device"]]
        assert r["cost_per_million"] == pytest.approx(cost_per_million(price, r["rows_per_s"]))
        assert r["rows_per_s"] == pytest.approx(r["batch_size"] / r["p50_ms"] * 1e3)
    for f in ("benchmark.json", "benchmark.csv", "latency_vs_batch.png", "cost_vs_latency.png"):
        assert (lay.benchmark_dir / f).stat().st_size > 0
    assert any(r.get("pareto") for r in json.loads((lay.benchmark_dir / "benchmark.json").read_text())["rows"])
    serving = json.loads(serving_file(lay.serving_dir).read_text())
    assert serving["online"]["variant"] == result["recommendation"]["online"]["variant"]
    assert onnx_path(student_dir(lay.serving_dir)).exists()


def test_benchmark_is_logged_with_the_run_and_chooses_the_served_variant(trained, tmp_path):
    import mlflow

    out = trained.out
    rec = out["benchmark"].recommendation
    assert out["benchmark"].enabled and rec.meets_online_objective and rec.online and rec.batch
    run_id = out["register"].run_id
    tags = mlflow.get_run(run_id).data.tags
    assert tags["serving.online.variant"] == rec.online.variant and tags["serving.batch.variant"] == rec.batch.variant
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "benchmark")}
    assert {"benchmark/benchmark.csv", "benchmark/benchmark.json", "benchmark/latency_vs_batch.png",
            "benchmark/cost_vs_latency.png"} <= listed
    # downloaded to tmp_path: from a local store MLflow otherwise loads in place and writes beside the artifacts
    served = mlflow.pyfunc.load_model(out["register"].model_uri, dst_path=str(tmp_path)).unwrap_python_model()
    assert served._scorer.variant.name == rec.batch.variant                # batch scoring path


def test_scorer_serves_the_recommended_variant(trained):
    from accelops.serving.scorer import Scorer

    lay = trained.params.layout
    test = pd.read_parquet(lay.predictions)
    rec = trained.out["benchmark"].recommendation.model_dump()
    online = Scorer(lay.model_dir, lay.serving_dir, mode="online", threads=1)
    batch = Scorer(lay.model_dir, lay.serving_dir, mode="batch", threads=1)
    assert online.variant.name == rec["online"]["variant"] and batch.variant.name == rec["batch"]["variant"]
    reference = Predictor(lay.model_dir).predict_proba(test)
    for scorer, choice in ((online, rec["online"]), (batch, rec["batch"])):
        p = scorer.predict_proba(test)
        assert p.shape == reference.shape
        assert np.max(np.abs(p - reference)) <= choice["max_prob_diff"] + 1e-9    # as benchmarked
    plain = Scorer(lay.model_dir, None, threads=1)           # never benchmarked: fp32 torch eager
    assert plain.variant == REFERENCE
    np.testing.assert_allclose(plain.predict_proba(test), reference, atol=1e-12)


def test_scorer_falls_back_to_cpu_when_the_recommended_device_is_absent(trained, tmp_path):
    import shutil

    from accelops.serving.scorer import choose

    shutil.copytree(trained.params.layout.serving_dir, tmp_path / "serving")
    config = json.loads(serving_file(tmp_path / "serving").read_text())
    config["online"] = {"variant": "teacher/onnxruntime/fp32/cuda", "batch_size": 1}
    serving_file(tmp_path / "serving").write_text(json.dumps(config))
    variant, batch, why = choose(tmp_path / "serving", "online", REFERENCE)
    if CUDA and "CUDAExecutionProvider" in __import__("onnxruntime").get_available_providers():
        assert variant.device == "cuda"
    else:
        assert variant.name == config["cpu_fallback"]["online"]["variant"] and why.startswith("CPU fallback")
