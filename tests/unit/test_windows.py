"""Window aggregates against a brute-force oracle on random data: ties, nulls, window edges, several
keys; and the batch path (history + new rows) equal to recomputing the whole table."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelops.config import WindowParams
from accelops.errors import FeatureStoreError
from accelops.features.windows import for_new_rows, window_features
from helpers import PartsInProcess

T0 = pd.Timestamp("2026-01-01", tz="UTC")
DAY = 86_400
# times in half-days, so window edges (exactly d days earlier) are hit often
events = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40),
                            st.one_of(st.none(), st.floats(-100, 100, allow_nan=False))), min_size=0, max_size=30)
WINDOWS = WindowParams(days=[1, 3, 7], count=True, mean=["x"])


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame({"k": [k for k, _, _ in rows],
                         "t": [T0 + pd.Timedelta(seconds=h * DAY // 2) for _, h, _ in rows],
                         "x": [np.nan if v is None else v for _, _, v in rows]},
                        columns=["k", "t", "x"]).astype({"k": "int64", "t": "datetime64[ns, UTC]", "x": "float64"})


def _oracle(rows, days):
    count, mean = [], []
    for k, h, _ in rows:
        inside = [v for k2, h2, v in rows if k2 == k and h - 2 * days < h2 <= h]   # (t - d, t] in half-days
        values = [v for v in inside if v is not None]
        count.append(len(inside))
        mean.append(np.mean(values) if values else np.nan)
    return np.array(count, dtype=float), np.array(mean, dtype=float)


@settings(max_examples=300, deadline=None)
@given(rows=events)
def test_window_aggregates_match_the_oracle(rows):
    df = _frame(rows)
    out = window_features(df, "k", "t", WINDOWS)
    assert list(out.columns) == list(WINDOWS.columns()) and out.index.equals(df.index)
    for workers in (2, 5):           # per entity partition (the features stage's fan-out): bit for bit the same
        pd.testing.assert_frame_equal(window_features(df, "k", "t", WINDOWS, PartsInProcess(workers)), out,
                                      check_exact=True)
    for d in WINDOWS.days:
        count, mean = _oracle(rows, d)
        np.testing.assert_array_equal(out[f"events_{d}d"].to_numpy(), count)
        np.testing.assert_allclose(out[f"x_mean_{d}d"].to_numpy(), mean, rtol=1e-9, atol=1e-9)
    # no leakage: shifting every later row's value leaves each row's aggregates unchanged
    for i in range(min(len(rows), 5)):
        later = df["t"] > df["t"].iloc[i]
        changed = df.assign(x=np.where(later, df["x"] + 1000.0, df["x"]))
        again = window_features(changed, "k", "t", WINDOWS).iloc[i]
        pd.testing.assert_series_equal(again, out.iloc[i])


@settings(max_examples=100, deadline=None)
@given(history=events, batch=events)
def test_batch_aggregates_equal_recomputing_the_union(history, batch):
    # keys are unique within each (the contract's unique-key rule holds for validated data)
    hist, new = (_frame(rows).drop_duplicates(["k", "t"], keep="last") for rows in (history, batch))
    new = new.assign(t=new["t"] + pd.Timedelta(days=10))                   # the batch continues the history
    got = for_new_rows(hist, new, "k", "t", WINDOWS)
    union = pd.concat([hist, new], ignore_index=True)
    union = union.drop_duplicates(["k", "t"], keep="last").reset_index(drop=True)
    full = pd.concat([union, window_features(union, "k", "t", WINDOWS)], axis=1)
    expected = new[["k", "t"]].merge(full, on=["k", "t"], how="left")
    assert len(got) == len(new)
    for col in WINDOWS.columns():
        np.testing.assert_allclose(got[col].to_numpy(), expected[col].to_numpy(), rtol=1e-9, atol=1e-9)


def test_missing_keys_or_timestamps_are_named():
    df = _frame([(1, 0, 1.0), (2, 1, 2.0)])
    with pytest.raises(FeatureStoreError, match="'t'"):
        window_features(df.assign(t=[T0, pd.NaT]), "k", "t", WINDOWS)
    with pytest.raises(FeatureStoreError, match="'k'"):
        window_features(df.astype({"k": "float64"}).assign(k=[1.0, np.nan]), "k", "t", WINDOWS)
    assert window_features(df.iloc[:0], "k", "t", WINDOWS).shape == (0, len(WINDOWS.columns()))


def test_means_stay_exact_beside_entities_with_large_running_totals():
    """A window's sum is never the difference of two large running totals (per-entity cumulative sums)."""
    big = pd.DataFrame({"k": 0, "t": T0 + pd.to_timedelta(np.arange(20_000), unit="min"), "x": 1e9})
    small = pd.DataFrame({"k": 1, "t": T0 + pd.to_timedelta([0, 1, 2], unit="D"), "x": [8.1, 8.62, 8.36]})
    out = window_features(pd.concat([big, small], ignore_index=True), "k", "t", WINDOWS).tail(3)
    assert out["x_mean_7d"].tolist() == [8.1, np.mean([8.1, 8.62]), np.mean([8.1, 8.62, 8.36])]
    assert out["x_mean_1d"].tolist() == [8.1, 8.62, 8.36]
