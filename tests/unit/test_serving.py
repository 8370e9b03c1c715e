"""The accelerator benchmark's logic: variants planned from what this machine has, cost, the Pareto
front, the recommendation, and torch.compile against eager. The benchmark of a trained model and
the scorer are tested on the session's trained project (tests/integration/test_stage_benchmark.py)."""

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


@pytest.mark.slow
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
