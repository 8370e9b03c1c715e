"""The saved-model folder: its file names, atomic save, load, the weights' hash, and `calibrated`,
the temperature-scaled sigmoid that turns the network's logits into served probabilities (defined
beside fit_temperature in evaluation.calibration, the layer below, and handed on from here).

A model folder holds
    model.pt            the network's weights (a state_dict; loaded with weights_only=True)
    preprocess.json     the Preprocessor fitted on the training split
    architecture.json   the keyword arguments of training.model.build_model
    calibration.json    {"temperature": T, ...} (T = 1 when the file is absent)
    model.onnx          the ONNX export (training.export), added after the save
The benchmark's serving folder holds serving.json (the recommended variants) and the distilled
student, a model folder of its own, in student/.

torch is imported only by the functions that write or load weights.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from accelops.evaluation.calibration import calibrated
from accelops.hashing import file_sha256
from accelops.training.preprocess import Preprocessor

__all__ = ["ARCHITECTURE", "CALIBRATION", "ONNX", "PREPROCESS", "SERVING_FILE", "STUDENT_DIR", "WEIGHTS",
           "SavedModel", "calibrated", "has_weights", "load", "onnx_path", "read_architecture",
           "read_preprocessor", "read_temperature", "save", "serving_file", "student_dir",
           "weights_hash"]

WEIGHTS = "model.pt"
PREPROCESS = "preprocess.json"
ARCHITECTURE = "architecture.json"
CALIBRATION = "calibration.json"
ONNX = "model.onnx"
SERVING_FILE = "serving.json"
STUDENT_DIR = "student"


@dataclass(frozen=True)
class SavedModel:
    network: Any                 # torch.nn.Module in eval mode, on the device asked for
    preprocessor: Preprocessor
    architecture: dict
    temperature: float


def save(folder: Path, weights: dict, preprocessor: Preprocessor, architecture: dict, calibration: dict,
         onnx: Callable[[Path], object] | None = None) -> Path:
    """Write a model folder atomically: the files go to a sibling temporary folder that then replaces
    `folder`, so a reader never sees a half-written model and a failed save leaves the previous one.
    `onnx(path)`, when given, writes the ONNX export into the temporary folder before the swap."""
    import torch

    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        torch.save(weights, tmp / WEIGHTS)
        preprocessor.save(tmp / PREPROCESS)
        (tmp / ARCHITECTURE).write_text(json.dumps(architecture, indent=2))
        (tmp / CALIBRATION).write_text(json.dumps(calibration, indent=2))
        if onnx is not None:
            onnx(tmp / ONNX)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _replace_dir(tmp, folder)
    return folder


def _replace_dir(src: Path, dst: Path) -> None:
    """Move folder `src` to `dst`, replacing any folder there (the old one is removed after the swap)."""
    if dst.exists():
        old = dst.with_name(dst.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        dst.replace(old)
        src.replace(dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        src.replace(dst)


def load(folder: Path, device: str = "cpu") -> SavedModel:
    """The network (weights loaded with weights_only=True, eval mode, on `device`), its preprocessor,
    architecture and temperature."""
    import torch

    from accelops.training.model import build_model

    folder = Path(folder)
    arch = read_architecture(folder)
    network = build_model(**arch)
    network.load_state_dict(torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True))
    return SavedModel(network.to(device).eval(), read_preprocessor(folder), arch, read_temperature(folder))


def read_architecture(folder: Path) -> dict:
    return json.loads((Path(folder) / ARCHITECTURE).read_text())


def read_preprocessor(folder: Path) -> Preprocessor:
    return Preprocessor.load(Path(folder) / PREPROCESS)


def read_temperature(folder: Path) -> float:
    path = Path(folder) / CALIBRATION
    return float(json.loads(path.read_text())["temperature"]) if path.exists() else 1.0


def has_weights(folder: Path) -> bool:
    return (Path(folder) / WEIGHTS).exists()


def weights_hash(folder: Path) -> str:
    """SHA-256 of the folder's weights file: identifies the trained network."""
    return file_sha256(Path(folder) / WEIGHTS)


def onnx_path(folder: Path) -> Path:
    return Path(folder) / ONNX


def serving_file(serving_dir: Path) -> Path:
    """The benchmark's recommendation that the serving path reads."""
    return Path(serving_dir) / SERVING_FILE


def student_dir(serving_dir: Path) -> Path:
    """The distilled student's model folder inside the serving folder."""
    return Path(serving_dir) / STUDENT_DIR
