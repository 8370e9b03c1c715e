import numpy as np
import pandas as pd
import pytest

from accelops.evaluation.metrics import overall_metrics, slice_metrics
from accelops.registry.gate import decide


def test_overall_metrics_know_perfect_and_random_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    perfect = overall_metrics(y, y.astype(float))
    assert perfect["roc_auc"] == 1.0 and perfect["brier"] < 1e-6
    noise = overall_metrics(y, rng.random(5000))
    assert noise["roc_auc"] == pytest.approx(0.5, abs=0.03)
    assert noise["brier"] == pytest.approx(1 / 3, abs=0.02)


def test_slice_auc_per_value_with_support_rule():
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame({"region": rng.choice(["a", "b", "tiny"], n, p=[0.5, 0.49, 0.01])})
    y = rng.integers(0, 2, n)
    p = np.where(frame["region"] == "a", y * 0.8 + 0.1, rng.random(n))   # good on a, random on b
    rows = {r["value"]: r for r in slice_metrics(frame, y, p, ["region"], min_support=50)}
    assert rows["a"]["roc_auc"] == 1.0
    assert rows["b"]["roc_auc"] == pytest.approx(0.5, abs=0.06)
    assert rows["tiny"]["roc_auc"] is None and rows["tiny"]["support"] < 50
    assert sum(r["support"] for r in rows.values()) == n


@pytest.mark.parametrize("challenger, champion, gain, promoted", [
    (0.80, None, 0.0, True),
    (0.80, 0.80, 0.0, True),
    (0.79, 0.80, 0.0, False),
    (0.805, 0.80, 0.01, False),
    (float("nan"), 0.80, 0.0, False),
])
def test_gate_v0_decision(challenger, champion, gain, promoted):
    decision, reason = decide(challenger, champion, gain)
    assert decision is promoted and reason
