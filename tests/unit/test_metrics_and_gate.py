import numpy as np
import pytest

from accelops.evaluation.metrics import overall_metrics
from accelops.registry.promotion import decide


def test_overall_metrics_know_perfect_and_random_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    perfect = overall_metrics(y, y.astype(float))
    assert perfect["roc_auc"] == 1.0 and perfect["brier"] < 1e-6
    noise = overall_metrics(y, rng.random(5000))
    assert noise["roc_auc"] == pytest.approx(0.5, abs=0.03)
    assert noise["brier"] == pytest.approx(1 / 3, abs=0.02)


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
