import numpy as np
import pytest
import torch

from accelops.errors import TrainingError
from accelops.training.device import choose_device
from accelops.training.predict import Predictor
from accelops.training.preprocess import Preprocessor
from accelops.training.split import time_split
from accelops.training.train import WEIGHTS, train_model


def _splits(frame, params):
    split = time_split(frame, params.dataset.timestamp, params.train.split)
    return frame[split == "train"], frame[split == "valid"], frame[split == "test"], split


def test_time_split_keeps_the_latest_data_for_test(small_frame, params):
    train, valid, test, split = _splits(small_frame, params)
    ts = "event_timestamp"
    assert train[ts].max() <= valid[ts].min() and valid[ts].max() <= test[ts].min()
    assert split.value_counts(normalize=True)["train"] == pytest.approx(0.7, abs=0.02)


def test_device_is_chosen_at_run_time():
    choice = choose_device("auto", threads=1)
    assert choice.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert torch.get_num_threads() == 1
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            choose_device("cuda", threads=1)


def test_preprocessing_is_fitted_on_train_and_handles_unknowns(small_frame, params):
    c = params.dataset
    pre = Preprocessor.fit(small_frame, list(c.numeric_features), list(c.categorical_features))
    x, codes = pre.transform(small_frame)
    assert np.abs(x.mean(axis=0)).max() < 1e-4 and x.dtype == np.float32
    odd = small_frame.head(3).copy()
    odd.loc[odd.index[0], "plan"] = "never-seen"
    odd.loc[odd.index[1], "tenure_months"] = np.nan
    x2, codes2 = pre.transform(odd)
    assert codes2[0, list(c.categorical_features).index("plan")] == 0    # unknown bucket
    assert x2[1, 0] == 0.0                                               # missing -> training mean


def test_training_learns_and_is_reproducible(small_frame, params, tmp_path):
    train, valid, test, _ = _splits(small_frame, params)
    r1 = train_model(train, valid, params.dataset, params.train, tmp_path / "m1")
    r2 = train_model(train, valid, params.dataset, params.train, tmp_path / "m2")
    assert r1.best_valid_auc > 0.7
    assert [h["valid_auc"] for h in r1.history] == [h["valid_auc"] for h in r2.history]
    p1 = Predictor(tmp_path / "m1").predict_proba(test)
    np.testing.assert_array_equal(p1, Predictor(tmp_path / "m2").predict_proba(test))
    assert ((p1 > 0) & (p1 < 1)).all()
    # weights are a plain state_dict: loadable with weights_only=True
    state = torch.load(tmp_path / "m1" / WEIGHTS, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert not (tmp_path / "m1.tmp").exists()


def test_single_class_training_split_is_a_named_error(small_frame, params, tmp_path):
    train, valid, _, _ = _splits(small_frame, params)
    with pytest.raises(TrainingError, match="single class"):
        train_model(train.assign(churned=0), valid, params.dataset, params.train, tmp_path / "m")
    assert not (tmp_path / "m").exists()
