import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from accelops.evaluation import behaviour, calibration, fairness, metrics, robustness, slices

RNG = np.random.default_rng(0)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_fast_auc_matches_sklearn_with_ties():
    y = RNG.integers(0, 2, 3000)
    p = np.round(RNG.random(3000) + 0.3 * y, 1)          # many ties
    assert metrics.fast_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert np.isnan(metrics.fast_auc(np.zeros(10), RNG.random(10)))


def test_threshold_max_f1_and_min_cost():
    y = RNG.integers(0, 2, 2000)
    p = np.clip(0.35 * y + RNG.random(2000) * 0.65, 0, 1)
    chosen = metrics.choose_threshold(y, p)
    brute = max(f1_score(y, p >= t) for t in np.unique(p))
    assert chosen["valid_f1"] == pytest.approx(brute, abs=1e-12)
    assert metrics.threshold_metrics(y, p, chosen["threshold"])["f1"] == pytest.approx(brute, abs=1e-12)
    # missing a churner costs 10x a false alarm: the threshold moves down
    cheap_fn = metrics.choose_threshold(y, p, cost_fp=1, cost_fn=10)
    assert cheap_fn["threshold"] < chosen["threshold"]
    cm = metrics.threshold_metrics(y, p, 0.5)["confusion_matrix"]
    assert sum(cm.values()) == 2000


def test_bootstrap_interval_brackets_the_value_and_shrinks_with_data():
    def data(n):
        y = RNG.integers(0, 2, n)
        return y, _sigmoid(1.5 * (y - 0.5) + RNG.normal(0, 1, n))

    small = metrics.bootstrap_ci(*data(500), n_boot=200, metrics=("roc_auc", "brier"))
    large = metrics.bootstrap_ci(*data(20000), n_boot=200, metrics=("roc_auc", "brier"))
    for ci in (small["roc_auc"], large["roc_auc"], small["brier"]):
        assert ci["low"] <= ci["value"] <= ci["high"]
    width = lambda ci: ci["high"] - ci["low"]
    assert width(large["roc_auc"]) < width(small["roc_auc"]) / 3


def test_perfect_calibration_has_near_zero_ece():
    p = RNG.random(50000)
    y = (RNG.random(50000) < p).astype(int)
    assert calibration.calibration_errors(y, p)["ece"] < 0.015


def test_temperature_scaling_fixes_over_confidence():
    z = RNG.normal(0, 1.5, 40000)
    y = (RNG.random(40000) < _sigmoid(z)).astype(int)
    over = 3.0 * z                                          # over-confident logits
    t = calibration.fit_temperature(y, over)
    assert t == pytest.approx(3.0, rel=0.1)
    before = calibration.calibration_errors(y, _sigmoid(over))["ece"]
    after = calibration.calibration_errors(y, calibration.calibrated(over, t))["ece"]
    assert before > 0.05 and after < before / 3


def _slice_data(n=12000):
    seg = RNG.choice(["good", "bad", "ok"], n)
    y = RNG.integers(0, 2, n)
    signal = np.where(seg == "bad", 0.4, 2.0)              # the planted weak slice has little signal
    p = _sigmoid(signal * (y - 0.5) + RNG.normal(0, 1, n))
    return pd.DataFrame({"segment": seg, "other": RNG.choice(["a", "b"], n)}), y, p


def test_planted_weak_slice_is_flagged_and_healthy_ones_are_not():
    frame, y, p = _slice_data()
    overall = metrics.fast_auc(y, p)
    rows = slices.slice_report(frame, y, p, ["segment", "other"], min_support=50, tolerance=0.02,
                               overall_auc=overall, n_boot=100)
    flagged = {(r["slice"], r["value"]) for r in rows if r["weak"]}
    assert ("segment", "bad") in flagged
    assert ("segment", "good") not in flagged and ("segment", "ok") not in flagged
    assert not any(r["slice"] == "other" for r in rows if r["weak"])
    assert any(r["slice"] == "segment x other" for r in rows)   # pairwise crosses are reported
    assert rows[0]["roc_auc"] <= rows[-1]["roc_auc"] or rows[-1]["roc_auc"] is None   # worst first


def test_small_slices_are_reported_but_never_flagged():
    frame, y, p = _slice_data(3000)
    frame.loc[:19, "segment"] = "tiny"
    rows = slices.slice_report(frame, y, p, ["segment"], min_support=50, tolerance=0.0,
                               overall_auc=0.99, n_boot=50, crosses=False)
    tiny = next(r for r in rows if r["value"] == "tiny")
    assert tiny["roc_auc"] is None and not tiny["weak"] and tiny["support"] == 20


def test_a_model_ignoring_the_sensitive_column_has_near_zero_parity_gap():
    n = 40000
    frame = pd.DataFrame({"group": RNG.choice(["x", "y"], n)})
    y = RNG.integers(0, 2, n)
    fair_p = _sigmoid(2 * (y - 0.5) + RNG.normal(0, 1, n))
    fair = fairness.fairness_report(frame, y, fair_p, 0.5, ["group"], min_support=50)
    assert fair["columns"]["group"]["demographic_parity_difference"] < 0.02
    assert fair["columns"]["group"]["equal_opportunity_difference"] < 0.03
    biased = fairness.fairness_report(frame, y, np.where(frame["group"] == "x", fair_p, fair_p * 0.5), 0.5,
                                      ["group"], min_support=50)
    assert biased["columns"]["group"]["demographic_parity_difference"] > 0.2
    assert biased["largest_gap"]["column"] == "group"


def test_robustness_curves_fall_with_noise_strength(small_frame, params):
    from accelops.data.generator import churn_logit

    c = params.dataset
    def score(df):      # the true label function, with missing values imputed and ranges enforced
        df = df.fillna(df.mean(numeric_only=True))
        for col, (lo, hi) in c.numeric_features.items():
            df[col] = df[col].clip(lo, hi)
        return _sigmoid(churn_logit(df))

    out = robustness.robustness_curves(small_frame, small_frame[c.label].to_numpy(), score,
                                       list(c.numeric_features), dict(c.categorical_features),
                                       {"gaussian_noise": [0.1, 0.5, 1.0, 2.0], "missing": [0.1, 0.5, 0.9]})
    for name, points in out["curves"].items():
        aucs = [out["clean_auc"]] + [pt["roc_auc"] for pt in points]
        assert aucs[-1] < aucs[0] - 0.05, name
        assert np.mean(np.diff(aucs)) < 0, name
        assert all(b <= a + 0.01 for a, b in zip(aucs, aucs[1:])), (name, aucs)


def test_behavioural_checks_catch_a_model_that_breaks_them():
    df = pd.DataFrame({"id": np.arange(500), "tickets": RNG.poisson(2, 500).astype(float)})
    good = lambda d: _sigmoid(0.5 * d["tickets"].to_numpy() - 1)
    leaky = lambda d: _sigmoid(0.5 * d["tickets"].to_numpy() - 1 + 1e-3 * d["id"].to_numpy())
    assert behaviour.invariance(df, good, ["id"], 1e-9)[0]["passed"]
    assert not behaviour.invariance(df, leaky, ["id"], 1e-9)[0]["passed"]
    expect = [{"feature": "tickets", "delta": 1, "direction": "up"}]
    assert behaviour.directional(df, good, expect, {"tickets": (0, 10)})[0]["passed"]
    backwards = lambda d: 1 - good(d)
    res = behaviour.directional(df, backwards, expect, {"tickets": (0, 10)})[0]
    assert not res["passed"] and res["share_rows_against"] > 0.9


def test_vectorised_bootstrap_equals_resampling_by_hand():
    from sklearn.metrics import average_precision_score

    y = RNG.integers(0, 2, 400)
    p = np.round(RNG.random(400) + 0.3 * y, 1)               # ties included
    w = metrics.bootstrap_weights(400, 5, np.random.default_rng(3))
    aucs, aps = metrics.weighted_auc(y, p, w), metrics.weighted_average_precision(y, p, w)
    for b in range(5):
        idx = np.repeat(np.arange(400), w[b].astype(int))
        assert aucs[b] == pytest.approx(roc_auc_score(y[idx], p[idx]), abs=1e-12)
        assert aps[b] == pytest.approx(average_precision_score(y[idx], p[idx]), abs=1e-12)


def test_bootstrap_in_blocks_gives_the_one_matrix_intervals(monkeypatch):
    """Resamples drawn a few at a time (bounded memory at 10M rows) are the same draws in the same
    order: the intervals, slice bounds and paired gains equal those of the whole (B, n) matrix."""
    from accelops.registry.rules import fairness_gap, paired_auc_gain

    y = RNG.integers(0, 2, 400)
    p = np.clip(RNG.random(400) * 0.6 + 0.3 * y, 0, 1)
    q = np.clip(p + RNG.normal(0, 0.1, 400), 0, 1)
    groups = pd.DataFrame({"g": RNG.choice(["a", "b", "c"], 400)})

    def everything():
        ci = metrics.bootstrap_ci(y, p, 40, seed=1, threshold=0.5)
        gap = fairness_gap(y, p, 0.5, groups, 20, 40, np.random.default_rng(3))
        return [*(v for m in ci.values() for v in m.values()), *paired_auc_gain(y, p, q, 40, np.random.default_rng(2)),
                gap.value, gap.low, gap.high]

    whole = everything()
    w = metrics.bootstrap_weights(400, 40, np.random.default_rng(2))
    diffs = metrics.weighted_auc(y, p, w) - metrics.weighted_auc(y, q, w)
    assert whole[-5] == pytest.approx(np.quantile(diffs, 0.025), abs=1e-12)   # the matrix, by hand
    monkeypatch.setattr(metrics, "BOOTSTRAP_BLOCK_CELLS", 3 * 400)            # 3 resamples per block
    assert len(list(metrics.bootstrap_blocks(400, 40, np.random.default_rng(0)))) == 14
    assert everything() == pytest.approx(whole, abs=1e-12)   # matrix products in other shapes: last-bit sums


def test_auc_ranks_saturated_probabilities_apart_as_sklearn_does():
    """Probabilities within 1e-7 of 0 or 1 (a well-separated table) kept their order: clipping them
    for the log loss had tied them and cut the reported AUC (0.99 -> 0.95 on breast cancer)."""
    from sklearn.metrics import roc_auc_score

    from accelops.evaluation.metrics import bootstrap_ci, overall_metrics

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(40, int), np.zeros(60, int)]
    p = np.r_[1 - 10.0 ** -rng.uniform(8, 12, 40), 10.0 ** -rng.uniform(7.5, 12, 60)]
    p[:5], p[40:45] = 1e-9 * np.arange(1, 6), 1 - 1e-9 * np.arange(1, 6)      # five of each inverted
    truth = roc_auc_score(y, p)
    assert truth < 1
    assert overall_metrics(y, p)["roc_auc"] == pytest.approx(truth, abs=1e-12)
    assert bootstrap_ci(y, p, 50)["roc_auc"]["value"] == pytest.approx(truth, abs=1e-12)


def test_the_ece_floor_from_sampling_noise_shrinks_with_rows_and_spares_only_calibrated_models():
    rng = np.random.default_rng(1)
    floors, excess = {}, {}
    for n in (150, 30_000):
        p = rng.uniform(0.05, 0.8, n)
        y = (rng.random(n) < p).astype(int)                     # calibrated by construction
        errors = calibration.calibration_errors(y, p)
        floors[n] = errors["noise"]
        assert abs(errors["ece"] - errors["noise"]) < 3 * errors["noise"]
        skewed = calibration.calibration_errors(y, p + 0.15)    # 15 points overconfident
        excess[n] = (errors["ece"] - errors["noise"], skewed["ece"] - skewed["noise"])
    assert floors[150] > 0.04 and floors[30_000] < 0.01
    assert abs(excess[30_000][0]) < 0.005 and excess[30_000][1] == pytest.approx(0.15, abs=0.01)
    # 150 rows tell little apart: the skewed model still shows more excess, by less than its 0.15
    assert excess[150][1] > excess[150][0] + 0.02
