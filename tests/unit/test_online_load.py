"""The online load's last-row-per-entity pick, against the pandas sort it replaced."""

import numpy as np
import pandas as pd
import pytest

from accelops.features.online_load import latest_per_entity


def _by_pandas_sort(table, key, ts, start, end):
    window = table[(table[ts] >= start) & (table[ts] < end)]
    order = window.assign(__order=np.arange(len(window))).sort_values([ts, "__order"], kind="stable")
    return order.drop_duplicates(key, keep="last").drop(columns="__order")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_latest_per_entity_equals_the_sorted_frame_pick(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    stamps = pd.Timestamp("2026-06-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
    table = pd.DataFrame({"customer_id": rng.integers(0, 700, n), "event_timestamp": stamps,
                          "value": rng.normal(size=n)}, index=rng.permutation(n) + 10)
    start, end = pd.Timestamp("2026-06-05", tz="UTC"), pd.Timestamp("2026-07-01", tz="UTC")
    got = latest_per_entity(table, "customer_id", "event_timestamp", start, end)
    expected = _by_pandas_sort(table, "customer_id", "event_timestamp", start, end)
    pd.testing.assert_frame_equal(got, expected)
    assert got["customer_id"].is_unique and len(got) > 500      # ties on the day: later file rows won


def test_latest_per_entity_of_an_empty_window_is_empty():
    table = pd.DataFrame({"customer_id": [1, 2], "event_timestamp": pd.to_datetime(["2026-01-01"] * 2, utc=True)})
    got = latest_per_entity(table, "customer_id", "event_timestamp", pd.Timestamp("2027-01-01", tz="UTC"),
                            pd.Timestamp("2028-01-01", tz="UTC"))
    assert got.empty and list(got.columns) == ["customer_id", "event_timestamp"]
