import numpy as np
import pytest

from accelops.validation.label_quality import confident_learning_flags, label_quality


def test_confident_learning_flags_exactly_the_confidently_wrong_labels():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 2000)
    p1 = np.where(truth == 1, 0.97, 0.03) + rng.uniform(-0.005, 0.005, 2000)   # a confident, right model
    noisy = truth.copy()
    flipped = rng.choice(2000, 100, replace=False)
    noisy[flipped] = 1 - noisy[flipped]
    flags, thresholds = confident_learning_flags(noisy, p1)
    assert set(np.flatnonzero(flags)) == set(flipped)
    assert 0 < thresholds[0] <= 1 and 0 < thresholds[1] <= 1


def test_flag_rate_rises_with_injected_flips(params):
    from accelops.data.generator import generate

    rates, recalls = [], []
    for severity in (0.0, 2.0):   # none, then 10% flipped labels
        g = generate(6000, 60, "2026-06-01", seed=4, scenario="label_noise" if severity else "none",
                     severity=severity or 1.0)
        summary, flags = label_quality(g.frame, params.dataset, folds=3, threads=1)
        rates.append(summary.rate)
        if severity:
            truth = np.zeros(len(flags), bool)
            truth[g.manifest["flipped_rows"]] = True
            recalls.append((flags & truth).sum() / truth.sum())
    assert rates[1] > rates[0] + 0.05
    assert recalls[0] > 0.4
