import numpy as np
import pytest
import torch

from accelops.errors import ConfigError, TrainingError
from accelops.training.device import choose_device
from accelops.training.predict import Predictor
from accelops.training.preprocess import Preprocessor
from accelops.training.split import time_split
from accelops.training.model_folder import ONNX, WEIGHTS
from accelops.training.train import train_model


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
        with pytest.raises(ConfigError, match="no CUDA device"):
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
    assert [h.valid_auc for h in r1.history] == [h.valid_auc for h in r2.history]
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


def _worker(params_path, out, ckpt, pause_at):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "train_worker.py"
    return subprocess.Popen([sys.executable, str(script), str(params_path), str(out), str(ckpt), str(pause_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


@pytest.mark.slow
def test_sigkilled_run_resumes_from_its_checkpoint_to_the_same_result(tmp_path):
    import signal

    from helpers import write_params

    params_path = write_params(tmp_path, train={"epochs": 6, "patience": 6, "threads": 1, "batch_size": 256})
    reference = _worker(params_path, tmp_path / "ref", tmp_path / "ref_ckpt", 0)
    ref_out = reference.communicate(timeout=300)[0]
    assert "DONE resumed_from=0" in ref_out

    victim = _worker(params_path, tmp_path / "model", tmp_path / "ckpt", 3)
    for line in victim.stdout:                      # kill it, hard, once epoch 3 is checkpointed
        if line.startswith("EPOCH 3"):
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert (tmp_path / "ckpt" / "last.pt").exists() and not (tmp_path / "model").exists()

    resumed = _worker(params_path, tmp_path / "model", tmp_path / "ckpt", 0).communicate(timeout=300)[0]
    assert "DONE resumed_from=3" in resumed
    epochs = lambda out: [ln for ln in out.splitlines() if ln.startswith("EPOCH")]
    assert epochs(resumed) == epochs(ref_out)[3:]   # epochs 4-6 identical to the uninterrupted run
    assert resumed.splitlines()[-1].split()[-1] == ref_out.splitlines()[-1].split()[-1]
    ref_w = torch.load(tmp_path / "ref" / WEIGHTS, weights_only=True)
    new_w = torch.load(tmp_path / "model" / WEIGHTS, weights_only=True)
    assert all(torch.equal(ref_w[k], new_w[k]) for k in ref_w)
    assert not (tmp_path / "ckpt" / "last.pt").exists()     # removed after success


def test_precision_is_detected_not_assumed():
    from accelops.training.device import choose_precision, cpu_has_native_bf16

    assert choose_precision("fp32", "cpu") == "fp32"
    assert choose_precision("auto", "cpu") == ("bf16" if cpu_has_native_bf16() else "fp32")
    if not cpu_has_native_bf16():
        with pytest.raises(ConfigError, match="no native bf16"):
            choose_precision("bf16", "cpu")


def test_bf16_autocast_path_matches_fp32_quality(small_frame, params, tmp_path, monkeypatch):
    """The bf16 code path (used on CUDA / bf16 CPUs) runs and learns as well as fp32; forced here."""
    import accelops.training.train as train_mod

    train, valid, _, _ = _splits(small_frame, params)
    tp = params.train.model_copy(update={"precision": "fp32"})
    fp32 = train_model(train, valid, params.dataset, tp, tmp_path / "fp32")
    monkeypatch.setattr(train_mod, "choose_precision", lambda requested, device: "bf16")
    bf16 = train_model(train, valid, params.dataset, tp, tmp_path / "bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.best_valid_auc > 0.7 and abs(bf16.best_valid_auc - fp32.best_valid_auc) < 0.03


class NotAllowed:
    """A type outside scikit-learn: skops must refuse to load a model file holding it."""


def test_baseline_is_a_servable_model_on_the_same_inputs(small_frame, params, tmp_path):
    import skops.io

    from accelops.errors import ModelLoadError
    from accelops.serving.variants import BOOSTING_REFERENCE, SklearnRunner, TreeliteRunner, reference_for
    from accelops.training import model_folder
    from accelops.training.baseline import train_baseline

    train, valid, test, _ = _splits(small_frame, params)
    c = params.dataset
    pre = Preprocessor.fit(train, list(c.numeric_features), list(c.categorical_features))
    metrics, p = train_baseline(train, valid, test, c.label, pre, tmp_path / "gb", 100, 1, 0)
    assert metrics.roc_auc > 0.7 and len(p) == len(test) and metrics.iterations >= 25
    folder = tmp_path / "gb"
    assert model_folder.kind(folder) == "boosting" and not (folder / WEIGHTS).exists()
    assert reference_for(folder) == BOOSTING_REFERENCE and model_folder.weights_hash(folder)
    # the saved folder scores exactly what training measured, through the predictor and the serving runner
    predictor = Predictor(folder, threads=1)
    np.testing.assert_allclose(predictor.predict_proba(test), p, atol=1e-12)
    assert not predictor.differentiable
    logits = SklearnRunner(folder, threads=1)(*pre.transform(test))
    np.testing.assert_allclose(model_folder.calibrated(logits, predictor.temperature), p, atol=1e-12)
    # the Treelite form holds the same trees: float32 thresholds, so margins agree to about 1e-4, also
    # on categories never seen in training
    odd = test.head(50).copy()
    odd[next(iter(c.categorical_features))] = "never-seen"
    for frame in (test, odd):
        xn, xc = pre.transform(frame)
        np.testing.assert_allclose(TreeliteRunner(folder, threads=1)(xn, xc), predictor.predict_logits(frame),
                                   atol=1e-3)
    # a model file holding any type outside the allow-list is refused, naming the type
    skops.io.dump({"model": predictor.model, "extra": NotAllowed()}, folder / model_folder.BOOSTING)
    with pytest.raises(ModelLoadError, match="NotAllowed"):
        Predictor(folder)


def test_onnx_export_matches_torch(small_frame, params, tmp_path):
    import onnxruntime as ort

    from accelops.training.export import export_onnx

    train, valid, test, _ = _splits(small_frame, params)
    train_model(train, valid, params.dataset, params.train, tmp_path / "m")
    info = export_onnx(tmp_path / "m", test)
    assert info["max_abs_diff"] <= 1e-5 and info["rows"] == len(test)
    # self-contained: the file alone, copied elsewhere, still loads (no external-data side file)
    assert sorted(p.name for p in (tmp_path / "m").glob("*onnx*")) == [ONNX]
    copy = tmp_path / "elsewhere.onnx"
    copy.write_bytes((tmp_path / "m" / ONNX).read_bytes())
    session = ort.InferenceSession(str(copy), providers=["CPUExecutionProvider"])
    predictor = Predictor(tmp_path / "m")
    xn, xc = predictor.preprocessor.transform(test.head(7))       # a batch size never seen at export
    logits = session.run(None, {"numeric": xn, "categorical": xc})[0]
    np.testing.assert_allclose(logits, predictor.predict_logits(test.head(7)), atol=1e-5)
