"""Drift statistics: false alarms under alpha at every sample size, no alarms on negligible shifts at
large n, one strongly shifted column among many detected, and the drifted slice named."""

import numpy as np
import pandas as pd
import pytest

from accelops.monitoring.stats import column_drifts, slice_drifts

NUMERIC = [f"x{i}" for i in range(10)]
CATEGORICAL = ["region", "plan", "device"]


def _frame(n: int, rng: np.random.Generator, shift: dict | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rng.normal(size=(n, len(NUMERIC))), columns=NUMERIC)
    df["x0"] = rng.lognormal(0, 1, n)                    # a skewed column too
    df["region"] = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    df["plan"] = rng.choice(["basic", "premium"], n)
    df["device"] = rng.choice(["ios", "android", "web"], n)
    for col, delta in (shift or {}).items():
        df[col] += delta
    return df


def _alarm(ref, cur, **kw) -> list[str]:
    tests = column_drifts(ref, cur, NUMERIC, CATEGORICAL, kw.get("threshold", 0.1), kw.get("alpha", 0.05),
                          kw.get("severe", 0.5))
    return [t.column for t in tests if t.drifted]


@pytest.mark.slow
def test_unchanged_data_raises_few_false_alarms_at_every_sample_size():
    """alpha = 5% per window (13 columns, Bonferroni): measured 4.9% over 2,000 windows of 100 rows."""
    for n, windows in ((100, 400), (1_000, 200), (20_000, 40)):
        alarms = 0
        for seed in range(1000, 1000 + windows):
            rng = np.random.default_rng(seed)
            alarms += bool(_alarm(_frame(n, rng), _frame(n, rng)))
        assert alarms / windows <= 0.08, (n, alarms)


def test_a_negligible_shift_at_large_n_is_significant_but_not_drift():
    rng = np.random.default_rng(0)
    ref, cur = _frame(200_000, rng), _frame(200_000, rng, {"x1": 0.03})
    (x1,) = [t for t in column_drifts(ref, cur, NUMERIC, CATEGORICAL, 0.1, 0.05, 0.5) if t.column == "x1"]
    assert x1.p_value < 1e-6 and x1.effect < 0.1 and not x1.drifted


def test_small_batches_do_not_flag_untouched_columns_on_noisy_distances():
    """114 rows: distances of untouched columns often pass 0.1 by chance; the test's p-value stops them."""
    rng = np.random.default_rng(1)
    ref = _frame(20_000, rng)
    by_distance = by_test = 0
    for seed in range(100):
        tests = column_drifts(ref, _frame(114, np.random.default_rng(100 + seed)), NUMERIC, CATEGORICAL, 0.1, 0.05, 0.5)
        by_distance += any(t.effect >= 0.1 for t in tests)
        by_test += any(t.drifted for t in tests)
    assert by_distance >= 90 and by_test <= 8               # distances alone fire on almost every window


def test_one_column_shifted_by_one_sd_among_many_is_a_severe_drift():
    rng = np.random.default_rng(2)
    ref, cur = _frame(5_000, rng), _frame(5_000, rng, {"x3": 1.0})
    tests = {t.column: t for t in column_drifts(ref, cur, NUMERIC, CATEGORICAL, 0.1, 0.05, 0.5)}
    assert [c for c, t in tests.items() if t.drifted] == ["x3"] and tests["x3"].severe


def test_per_slice_drift_names_the_shifted_slice():
    rng = np.random.default_rng(3)
    ref, cur = _frame(20_000, rng), _frame(20_000, rng)
    north = cur["region"] == "north"
    cur.loc[north, "x2"] += 0.8
    cur.loc[north, "x5"] += 0.8
    found = slice_drifts(ref, cur, ["region", "plan"], NUMERIC, CATEGORICAL, 0.1, 0.05, 0.5, 200)
    assert (found[0].slice, found[0].value) == ("region", "north")
    assert set(found[0].drifted_columns) == {"x2", "x5"}
    assert all(not s.drifted_columns for s in found if s.slice == "region" and s.value != "north")


def test_one_sort_statistics_equal_scipys():
    from scipy.stats import ks_2samp, wasserstein_distance

    from accelops.monitoring.stats import numeric_drift

    rng = np.random.default_rng(4)
    for n, m in ((50, 80), (3_000, 2_000), (100_000, 100_000)):
        a, b = rng.lognormal(0, 1, n), rng.lognormal(0.05, 1.1, m)
        a[:3] = np.nan                                   # missing values are dropped on both paths
        effect, p = numeric_drift(a, b)
        fa = a[np.isfinite(a)]
        assert effect == pytest.approx(wasserstein_distance(fa, b) / np.std(fa), rel=1e-9)
        assert p == pytest.approx(ks_2samp(fa, b, method="asymp").pvalue, rel=1e-6, abs=1e-300)


def test_values_that_stop_arriving_and_a_new_category_are_severe_drift():
    """A numeric column's missing share and a new category move no distance of the values present,
    yet each is drift on its own (the generator's missing_spike and new_category scenarios)."""
    rng = np.random.default_rng(5)
    ref, cur = _frame(5_000, rng), _frame(5_000, rng)
    cur.loc[cur.index[:1500], "x4"] = np.nan                      # 30% of x4 stops arriving
    cur.loc[cur.index[1500:2250], "device"] = "tv"                 # 15% on a device never seen
    tests = {t.column: t for t in column_drifts(ref, cur, NUMERIC, CATEGORICAL, 0.1, 0.05, 0.5)}
    assert tests["x4"].effect < 0.1 and tests["x4"].missing_delta == pytest.approx(0.3)
    assert tests["x4"].drifted and tests["x4"].severe and tests["device"].drifted and tests["device"].severe
    assert sorted(c for c, t in tests.items() if t.drifted) == ["device", "x4"]
