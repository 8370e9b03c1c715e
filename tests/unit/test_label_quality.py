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


def test_a_table_over_the_fit_cap_is_judged_row_by_row_by_models_of_a_sample(params, monkeypatch):
    """label_fit_rows: folds fit on a sample (scored out of fold as the sample alone would be), every
    other row scored by the fold models' average in chunks; flipped labels outside the sample are caught
    as well as inside, and the rate stays near the uncapped check's."""
    from accelops.data.generator import generate
    from accelops.validation import label_quality as lq

    g = generate(9000, 60, "2026-06-01", seed=4, scenario="label_noise", severity=2.0)
    df = g.frame
    full, full_flags = label_quality(df, params.dataset, folds=3, threads=1)
    monkeypatch.setattr(lq, "SCORE_CHUNK", 2500)                   # three chunks of the 6000 unsampled rows
    capped = lq.out_of_fold_proba(df, params.dataset, folds=3, threads=1, fit_rows=3000)
    fit_idx = np.sort(np.random.default_rng(0).choice(len(df), 3000, replace=False))
    alone = lq.out_of_fold_proba(df.iloc[fit_idx], params.dataset, folds=3, threads=1)
    assert np.array_equal(capped[fit_idx], alone) and np.isfinite(capped).all()
    summary, flags = label_quality(df, params.dataset, folds=3, threads=1, fit_rows=3000)
    truth = np.zeros(len(df), bool)
    truth[g.manifest["flipped_rows"]] = True
    outside = np.ones(len(df), bool)
    outside[fit_idx] = False
    assert (flags & truth & outside).sum() / (truth & outside).sum() > 0.4        # recall outside the sample
    assert summary.rate == pytest.approx(full.rate, abs=0.02) and summary.rows == full.rows == len(df)
