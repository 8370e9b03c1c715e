"""Performance per window: the CBPE estimate (expected AUC from calibrated scores), realised metrics
from delayed labels joined by key, decay, label files, and each input's impact on the mean prediction."""

import numpy as np
import pandas as pd
import pytest

from accelops.config import Contract
from accelops.errors import DataFormatError
from accelops.evaluation.metrics import fast_auc
from accelops.monitoring.attribution import prediction_impact
from accelops.monitoring.performance import WindowPerformance, cbpe_auc, decay, read_labels, window_performance

CONTRACT = Contract(name="t", entity_id="id", timestamp="ts", label="y",
                    numeric_features={"x": (None, None)}, categorical_features={"region": ["a", "b"]},
                    slices=["region"])


def test_cbpe_is_the_mean_auc_over_labels_drawn_from_calibrated_scores():
    rng = np.random.default_rng(0)
    p = rng.beta(1, 3, 400)
    draws = [fast_auc((rng.random(len(p)) < p).astype(int), p) for _ in range(4000)]
    assert cbpe_auc(p) == pytest.approx(np.mean(draws), abs=0.002)
    # by hand, two rows scored 0.8 and 0.2: a won pair needs row 1 positive and row 2 negative (0.64),
    # a lost pair the reverse (0.04), so the expected AUC over the draws with both classes is 0.64 / 0.68
    assert cbpe_auc(np.array([0.8, 0.2])) == pytest.approx(0.64 / 0.68, rel=1e-12)
    assert cbpe_auc(np.full(10, 0.3)) == pytest.approx(0.5)     # all tied: a coin
    assert np.isnan(cbpe_auc(np.zeros(5)))                      # no expected positive


def test_realised_metrics_join_labels_by_key_and_wait_for_enough_of_them():
    rng = np.random.default_rng(1)
    n = 2000
    ts = pd.Timestamp("2026-11-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min")
    p = rng.beta(2, 5, n)
    scored = pd.DataFrame({"id": np.arange(n), "ts": ts, "region": np.where(np.arange(n) % 2, "a", "b"),
                           "model_version": "3", "prediction": p})
    y = (rng.random(n) < p).astype(int)
    labels = pd.DataFrame({"id": np.arange(n), "ts": ts, "y": y})
    early = window_performance("w", scored, labels.head(100), CONTRACT, min_labelled=200, slices=["region"])
    assert early.labelled == 100 and early.realised_auc is None and early.estimated_auc == pytest.approx(cbpe_auc(p))
    # labels of other keys (a different time) join nothing
    assert window_performance("w", scored, labels.assign(ts=ts + pd.Timedelta(days=1)), CONTRACT, 200).labelled == 0
    full = window_performance("w", scored, labels, CONTRACT, min_labelled=200, slices=["region"])
    assert full.labelled == n and full.realised_auc == pytest.approx(fast_auc(y, p))
    assert full.positive_rate == pytest.approx(y.mean()) and full.brier == pytest.approx(np.mean((p - y) ** 2))
    assert abs(full.estimate_error) < 0.03                      # calibrated scores: the estimate holds
    assert {(s.value, s.labelled) for s in full.slices} == {("a", 1000), ("b", 1000)}
    # a concept shift (labels no longer follow the scores): the estimate cannot see it, realised can
    flipped = labels.assign(y=(rng.random(n) < 1 - p).astype(int))
    shifted = window_performance("w", scored, flipped, CONTRACT, min_labelled=200)
    assert shifted.realised_auc < 0.4 and shifted.estimate_error > 0.3


def _perf(version: str, auc: float | None, labelled: int = 1000) -> WindowPerformance:
    return WindowPerformance(window="w", model_version=version, rows=labelled, mean_prediction=0.2,
                             estimated_auc=0.8, labelled=labelled, realised_auc=auc)


def test_decay_counts_the_champions_recent_labelled_windows_only():
    assert decay([_perf("1", 0.70)], "1", 0.80, 0.05).startswith("performance decay: realised AUC 0.7000")
    assert decay([_perf("1", 0.78)], "1", 0.80, 0.05) is None                  # within the allowed drop
    assert decay([_perf("1", 0.60)], "2", 0.80, 0.05) is None                  # another version's windows
    assert decay([_perf("1", None)], "1", 0.80, 0.05) is None                  # no labels yet
    assert decay([_perf("1", 0.70)], "1", None, 0.05) is None                  # no test AUC on record
    # old bad windows then three good ones: only the last n count
    history = [_perf("1", 0.6)] * 3 + [_perf("1", 0.79)] * 3
    assert decay(history, "1", 0.80, 0.05, recent=3) is None
    # weighted by labelled rows: a small bad window does not outvote large good ones
    assert decay([_perf("1", 0.79, 5000), _perf("1", 0.5, 200)], "1", 0.80, 0.05) is None


def test_label_files_are_read_with_later_corrections_winning_and_bad_ones_named(tmp_path):
    ts = pd.Timestamp("2026-11-01", tz="UTC")
    assert read_labels(tmp_path, CONTRACT).empty
    pd.DataFrame({"id": [1, 2], "ts": [ts, ts], "y": [0, 1], "extra": ["x", "y"]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"id": [2], "ts": [ts.isoformat()], "y": [0]}).to_csv(tmp_path / "b.csv", index=False)
    got = read_labels(tmp_path, CONTRACT).sort_values("id")
    assert got["y"].tolist() == [0, 0] and list(got.columns) == ["id", "ts", "y"]
    pd.DataFrame({"id": [3], "ts": [ts], "y": [2]}).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(DataFormatError, match=r"c\.parquet: column y: 1 label\(s\) not 0 or 1"):
        read_labels(tmp_path, CONTRACT)
    (tmp_path / "c.parquet").unlink()
    pd.DataFrame({"id": [3], "y": [1]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(DataFormatError, match=r"d\.parquet: label file without column\(s\) \['ts'\]"):
        read_labels(tmp_path, CONTRACT)


def test_impact_is_the_change_in_mean_prediction_each_column_explains():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 5000), "b": rng.normal(0, 1, 5000), "ignored": rng.normal(0, 1, 5000)})
    cur = ref.assign(a=ref["a"] + 1.0, ignored=ref["ignored"] + 5.0)     # two columns drift; b does not

    def predict(df):                                                     # linear: impacts are exact in mean
        return 0.3 * df["a"].to_numpy() - 0.1 * df["b"].to_numpy()

    out = prediction_impact(predict, ref, cur, ["a", "b", "ignored"], rows=5000)
    impacts = {i.column: i.mean_prediction_change for i in out.impacts}
    assert out.impacts[0].column == "a" and impacts["a"] == pytest.approx(0.3, abs=0.03)
    assert abs(impacts["ignored"]) < 1e-12 and abs(impacts["b"]) < 0.01
    assert out.total_change == pytest.approx(0.3, abs=0.03)


def test_impact_uses_the_scores_the_caller_already_has():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 500)})
    cur = ref.assign(a=ref["a"] + 1.0)
    calls = []

    def predict(df):
        calls.append(len(df))
        return 0.3 * df["a"].to_numpy()

    fresh = prediction_impact(predict, ref, cur, ["a"], rows=1000)
    scored = len(calls)
    calls.clear()
    reused = prediction_impact(predict, ref, cur, ["a"], rows=1000, reference_scores=predict(ref),
                               current_scores=predict(cur))
    # alone: current, reference and the one swapped frame; given both scores: the caller's two calls plus the swap
    assert scored == 3 and len(calls) == 2 + 1 and reused == fresh
