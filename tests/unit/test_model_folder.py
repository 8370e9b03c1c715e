"""The saved-model folder (training.model_folder) and the content hashes (accelops.hashing)."""

import hashlib
import json

import numpy as np
import pytest
import torch

from accelops.hashing import file_sha256, json_digest, sha256_if_file
from accelops.training import model_folder
from accelops.training.model import build_model
from accelops.training.preprocess import Preprocessor

ARCH = {"n_numeric": 2, "cardinalities": [3], "embedding_dim": 2, "hidden": [4], "dropout": 0.0}


def _save(folder, small_frame, temperature=2.0, onnx=None):
    torch.manual_seed(0)
    net = build_model(**ARCH)
    pre = Preprocessor.fit(small_frame, ["tenure_months", "monthly_charges"], ["plan"])
    return net, pre, model_folder.save(folder, net.state_dict(), pre, ARCH, {"temperature": temperature}, onnx=onnx)


def test_save_then_load_round_trips(small_frame, tmp_path):
    net, pre, folder = _save(tmp_path / "m", small_frame)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [model_folder.WEIGHTS, model_folder.PREPROCESS, model_folder.ARCHITECTURE, model_folder.CALIBRATION])
    saved = model_folder.load(folder)
    assert saved.architecture == ARCH and saved.temperature == 2.0 and saved.preprocessor == pre
    assert not saved.network.training
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), saved.network.state_dict().values()))
    assert model_folder.weights_hash(folder) == hashlib.sha256((folder / model_folder.WEIGHTS).read_bytes()).hexdigest()


def test_save_replaces_a_folder_whole_and_leaves_no_temporary(small_frame, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "stale.txt").write_text("from an older model")
    _save(folder, small_frame, onnx=lambda path: path.write_bytes(b"onnx"))
    assert not (folder / "stale.txt").exists() and model_folder.onnx_path(folder).read_bytes() == b"onnx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_failed_save_keeps_the_previous_model(small_frame, tmp_path):
    _, _, folder = _save(tmp_path / "m", small_frame, temperature=3.0)

    def broken_export(path):
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        _save(folder, small_frame, temperature=5.0, onnx=broken_export)
    assert model_folder.read_temperature(folder) == 3.0 and sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_temperature_defaults_to_one_and_scales_the_sigmoid(tmp_path):
    assert model_folder.read_temperature(tmp_path) == 1.0 and not model_folder.has_weights(tmp_path)
    p = model_folder.calibrated(np.array([0.0, 2.0, -2.0], dtype=np.float32), 2.0)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, [0.5, 1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))])


def test_hashes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (3 << 20))                    # spans several read chunks
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_if_file(path)
    assert sha256_if_file(tmp_path / "absent") is None and sha256_if_file("<frame>") is None
    obj = {"b": [1, 2], "a": {"t": tmp_path}}
    full = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
    assert json_digest(obj) == full and json_digest(obj, length=16) == full[:16]
    assert json_digest({"a": {"t": tmp_path}, "b": [1, 2]}) == full      # key order does not matter
