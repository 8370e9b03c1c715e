"""The accelerator benchmark and the serving path on a real (small) model: variants planned from
what this machine has, timings, accuracy deltas, cost, recommendation, outputs and the scorer."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from accelops.errors import ServingError
from accelops.serving.recommend import cost_per_million, pareto_front, recommend
from accelops.serving.variants import REFERENCE, Variant, plan, supported
from accelops.training.predict import Predictor
from accelops.training.split import time_split
from accelops.training.train import train_model

CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def model(small_frame, tmp_path_factory):
    """A trained teacher and the benchmark of it (short, but every part real)."""
    from accelops.config import load_params
    from accelops.serving.benchmark import run_benchmark
    from helpers import write_params

    folder = tmp_path_factory.mktemp("serving")
    params = load_params(write_params(folder))
    split = time_split(small_frame, params.dataset.timestamp, params.train.split)
    train, valid, test = (small_frame[split == s].reset_index(drop=True) for s in ("train", "valid", "test"))
    train_model(train, valid, params.dataset, params.train, folder / "model")
    from accelops.training.export import export_onnx

    export_onnx(folder / "model", test.head(512))
    result = run_benchmark(folder / "model", test, params.dataset, params.benchmark, folder / "bench",
                           folder / "serving", train_df=train, seed=0)
    return params, folder, test, result


def _row(variant, batch, p99, cost, auc_drop=0.0, dp=0.0, device="cpu"):
    return {"variant": variant, "model": "teacher", "runtime": "x", "precision": "fp32", "device": device,
            "batch_size": batch, "p50_ms": p99 / 2, "p99_ms": p99, "rows_per_s": batch / p99 * 1e3,
            "cost_per_million": cost, "auc_drop": auc_drop, "max_prob_diff": dp}


def test_recommendation_is_the_cheapest_accurate_variant_meeting_the_objective(params):
    bench = params.benchmark.model_copy(update={"online_p99_ms": 1.0, "max_auc_drop": 0.002, "max_prob_diff": 0.02})
    rows = [_row("a", 1, 0.5, 3.0), _row("b", 1, 0.2, 2.0, auc_drop=0.01),    # b: cheaper but inaccurate
            _row("c", 1, 3.0, 1.0),                                          # c: cheapest but too slow
            _row("d", 1, 0.9, 2.5, dp=0.019), _row("gpu", 1, 0.1, 0.5, device="cuda"),
            _row("a", 1024, 5.0, 0.01), _row("c", 1024, 2.0, 0.004), _row("b", 1024, 1.0, 0.001, auc_drop=0.5)]
    rec = recommend(rows, bench)
    assert rec["online"]["variant"] == "gpu" and rec["meets_online_objective"]
    assert rec["batch"]["variant"] == "c" and rec["batch"]["batch_size"] == 1024
    cpu = recommend(rows, bench, devices=["cpu"])
    assert cpu["online"]["variant"] == "d" and "cheapest of 2 qualifying" in cpu["online_reason"]
    strict = recommend(rows, bench.model_copy(update={"online_p99_ms": 0.05}))
    assert strict["online"] is None and not strict["meets_online_objective"]
    assert "fastest: gpu at 0.100 ms" in strict["online_reason"]


def test_cost_per_million_follows_price_and_throughput():
    assert cost_per_million(3.6, 1000.0) == pytest.approx(1.0)        # $3.6/h = $0.001/s; 1000 s per million
    assert cost_per_million(3.6, 2000.0) == pytest.approx(0.5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.001, 100), st.floats(0.001, 100)), min_size=1, max_size=30))
def test_pareto_front_matches_brute_force(points):
    def dominated(p):
        return any(a <= p[0] and b <= p[1] and (a, b) != p for a, b in points)

    front = pareto_front(points)
    assert all(not dominated(points[i]) for i in front)                       # nothing on it is beaten
    assert {points[i] for i in front} == {p for p in points if not dominated(p)}   # nothing unbeaten is left out


def test_plan_keeps_only_what_runs_here(params):
    variants, skipped = plan(params.benchmark.model_copy(update={
        "runtimes": ["eager", "compile", "onnxruntime"], "precisions": ["fp32", "bf16", "fp16", "int8"],
        "devices": ["auto"]}), with_student=True)
    assert variants[0] == REFERENCE and len(set(variants)) == len(variants)
    assert all(supported(v) is None for v in variants)
    reasons = {s["name"]: s["reason"] for s in skipped}
    assert reasons["teacher/eager/fp16/cpu"] == "fp16 is emulated on CPU"
    assert "teacher/onnxruntime/fp32/cpu" in {v.name for v in variants}
    assert any(v.model == "student" for v in variants)
    if not CUDA:
        assert all(v.device == "cpu" for v in variants)
        assert supported(Variant("teacher", "eager", "bf16", "cuda")) == "no CUDA device"
    assert Variant.parse("student/eager/fp32/cpu").model == "student"
    with pytest.raises(ServingError, match="model/runtime/precision/device"):
        Variant.parse("eager-fp32")


def test_benchmark_table_accuracy_and_outputs(model):
    params, folder, test, typed = model
    result = typed.model_dump()
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
        assert (folder / "bench" / f).stat().st_size > 0
    assert any(r.get("pareto") for r in json.loads((folder / "bench" / "benchmark.json").read_text())["rows"])
    serving = json.loads((folder / "serving" / "serving.json").read_text())
    assert serving["online"]["variant"] == result["recommendation"]["online"]["variant"]


def test_scorer_serves_the_recommended_variant(model):
    from accelops.serving.scorer import Scorer

    params, folder, test, typed = model
    rec = typed.recommendation.model_dump()
    online = Scorer(folder / "model", folder / "serving", mode="online", threads=1)
    batch = Scorer(folder / "model", folder / "serving", mode="batch", threads=1)
    assert online.variant.name == rec["online"]["variant"] and batch.variant.name == rec["batch"]["variant"]
    reference = Predictor(folder / "model").predict_proba(test)
    for scorer, choice in ((online, rec["online"]), (batch, rec["batch"])):
        p = scorer.predict_proba(test)
        assert p.shape == reference.shape
        assert np.max(np.abs(p - reference)) <= choice["max_prob_diff"] + 1e-9    # as benchmarked
    plain = Scorer(folder / "model", None, threads=1)           # never benchmarked: fp32 torch eager
    assert plain.variant == REFERENCE
    np.testing.assert_allclose(plain.predict_proba(test), reference, atol=1e-12)


def test_scorer_falls_back_to_cpu_when_the_recommended_device_is_absent(model, tmp_path):
    import shutil

    from accelops.serving.scorer import choose

    params, folder, test, result = model
    shutil.copytree(folder / "serving", tmp_path / "serving")
    config = json.loads((tmp_path / "serving" / "serving.json").read_text())
    config["online"] = {"variant": "teacher/onnxruntime/fp32/cuda", "batch_size": 1}
    (tmp_path / "serving" / "serving.json").write_text(json.dumps(config))
    variant, batch, why = choose(tmp_path / "serving", "online")
    if CUDA and "CUDAExecutionProvider" in __import__("onnxruntime").get_available_providers():
        assert variant.device == "cuda"
    else:
        assert variant.name == config["cpu_fallback"]["online"]["variant"] and why.startswith("CPU fallback")


def test_torch_compile_variant_matches_eager(small_frame, tmp_path):
    """torch.compile (inductor) on the CPU: same outputs as eager; the compile is setup, not latency."""
    from accelops.serving.measure import logits_all, time_cell
    from accelops.serving.variants import load_runner

    from accelops.config import load_params
    from helpers import write_params

    params = load_params(write_params(tmp_path))
    split = time_split(small_frame, params.dataset.timestamp, params.train.split)
    train_model(small_frame[split == "train"], small_frame[split == "valid"], params.dataset, params.train,
                tmp_path / "m")
    xn, xc = Predictor(tmp_path / "m").preprocessor.transform(small_frame.head(300))
    eager = load_runner(tmp_path / "m", REFERENCE, 1)
    compiled = load_runner(tmp_path / "m", Variant("teacher", "compile", "fp32", "cpu"), 1)
    np.testing.assert_allclose(logits_all(compiled, xn, xc), logits_all(eager, xn, xc), atol=1e-5)
    cell = time_cell(compiled, xn, xc, 7, warmup=1, min_repeats=3, max_seconds=0.01)   # a size never compiled
    assert cell.repeats >= 3 and cell.device_ms is None
