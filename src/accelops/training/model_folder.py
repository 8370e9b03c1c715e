"""The saved-model folder: its file names, atomic save, load, the weights' hash, and `calibrated`,
the temperature-scaled sigmoid that turns the network's logits into served probabilities (defined
beside fit_temperature in evaluation.calibration, the layer below, and handed on from here).

A model folder holds one of two kinds of model (`kind`):
    model.pt            a network's weights (a state_dict; loaded with weights_only=True), or
    model.skops         a gradient-boosting model (skops format: loaded only when every type it
                        holds is scikit-learn's or on the short allow-list below; never pickle),
                        with model.treelite, the same trees compiled for Treelite's predictor
                        (its own binary format; about 0.1 ms per row where scikit-learn's
                        per-tree call overhead costs milliseconds)
and
    preprocess.json     the Preprocessor fitted on the training split
    architecture.json   the keyword arguments of training.model.build_model
    calibration.json    {"temperature": T, ...} (T = 1 when the file is absent)
    model.onnx          the network's ONNX export (training.export), added after the save
Both kinds read the same standardised inputs (the Preprocessor's numerics and category codes) and
return logits, so the serving path, evaluation and the registry treat them alike.
The benchmark's serving folder holds serving.json (the recommended variants) and the distilled
student, a model folder of its own, in student/.

torch is imported only by the functions that write or load weights.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from accelops.errors import ModelLoadError
from accelops.evaluation.calibration import calibrated
from accelops.hashing import file_sha256
from accelops.training.preprocess import Preprocessor

__all__ = ["ARCHITECTURE", "BOOSTING", "BOOSTING_TYPES", "CALIBRATION", "KINDS", "ONNX", "PREPROCESS",
           "SERVING_FILE", "STUDENT_DIR", "TREELITE", "WEIGHTS", "Kind", "SavedModel", "calibrated", "candidate_column", "copy",
           "has_weights",
           "kind", "load", "load_boosting", "load_treelite", "onnx_path", "read_architecture", "read_preprocessor",
           "read_temperature", "save", "save_boosting", "serving_file", "student_dir", "weights_hash"]

Kind = Literal["network", "boosting"]
KINDS: tuple[Kind, ...] = ("network", "boosting")
WEIGHTS = "model.pt"
BOOSTING = "model.skops"
TREELITE = "model.treelite"
# the only non-scikit-learn-estimator types a HistGradientBoostingClassifier's skops file holds
BOOSTING_TYPES = ("functools.partial", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                  "sklearn.utils.validation.check_array")
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
    """Write a network's model folder atomically: the files go to a sibling temporary folder that then
    replaces `folder`, so a reader never sees a half-written model and a failed save leaves the previous
    one. `onnx(path)`, when given, writes the ONNX export into the temporary folder before the swap."""
    import torch

    def weights_and_onnx(tmp: Path) -> None:
        torch.save(weights, tmp / WEIGHTS)
        if onnx is not None:
            onnx(tmp / ONNX)

    return _write_folder(folder, weights_and_onnx, preprocessor, architecture, calibration)


def save_boosting(folder: Path, model: Any, preprocessor: Preprocessor, architecture: dict,
                  calibration: dict) -> Path:
    """Write a gradient-boosting model folder atomically: the model in skops format (no pickle) and
    its trees compiled for Treelite."""
    import skops.io
    import treelite.sklearn

    def both(tmp: Path) -> None:
        skops.io.dump(model, tmp / BOOSTING)
        (tmp / TREELITE).write_bytes(treelite.sklearn.import_model(model).serialize_bytes())

    return _write_folder(folder, both, preprocessor, architecture, calibration)


def _write_folder(folder: Path, write_model: Callable[[Path], object], preprocessor: Preprocessor,
                  architecture: dict, calibration: dict) -> Path:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write_model(tmp)
        preprocessor.save(tmp / PREPROCESS)
        (tmp / ARCHITECTURE).write_text(json.dumps(architecture, indent=2))
        (tmp / CALIBRATION).write_text(json.dumps(calibration, indent=2))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _replace_dir(tmp, folder)
    return folder


def copy(src: Path, dst: Path) -> Path:
    """Copy a model folder to `dst` atomically (the chosen candidate becomes the challenger)."""
    src, dst = Path(src), Path(dst)
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    _replace_dir(tmp, dst)
    return dst


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


def candidate_column(kind: Kind) -> str:
    """The predictions file's column holding candidate `kind`'s calibrated test probability."""
    return f"candidate_{kind}"


def kind(folder: Path) -> Kind:
    """"boosting" when the folder holds a gradient-boosting model, else "network"."""
    return "boosting" if (Path(folder) / BOOSTING).exists() else "network"


def load_boosting(folder: Path) -> Any:
    """The folder's gradient-boosting model. skops refuses any type outside scikit-learn's own and
    BOOSTING_TYPES, so a tampered file cannot run code on load."""
    import skops.io

    path = Path(folder) / BOOSTING
    unknown = sorted(set(skops.io.get_untrusted_types(file=path)) - set(BOOSTING_TYPES))
    if unknown:
        raise ModelLoadError(f"{path}: holds types outside the allow-list, refusing to load: {', '.join(unknown)}")
    return skops.io.load(path, trusted=list(BOOSTING_TYPES))


def load_treelite(folder: Path) -> Any:
    """The folder's gradient-boosting model compiled for Treelite (treelite.Model)."""
    import treelite

    path = Path(folder) / TREELITE
    if not path.exists():
        raise ModelLoadError(f"{path}: no Treelite form of the gradient-boosting model")
    return treelite.Model.deserialize_bytes(path.read_bytes())


def load(folder: Path, device: str = "cpu") -> SavedModel:
    """The network (weights loaded with weights_only=True, eval mode, on `device`), its preprocessor,
    architecture and temperature."""
    import torch

    from accelops.training.model import build_model

    folder = Path(folder)
    arch = read_architecture(folder)
    network = build_model(**arch)
    network.load_state_dict(load_weights(folder / WEIGHTS))
    return SavedModel(network.to(device).eval(), read_preprocessor(folder), arch, read_temperature(folder))


def load_weights(path: Path) -> dict:
    """A state dict (or checkpoint) of tensors and plain values: `torch.load(weights_only=True)`, which
    refuses any pickled object that could run code; a refusal is a `ModelLoadError` naming the file."""
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise ModelLoadError(f"{path}: not loaded: it holds objects other than tensors and plain values "
                             f"(weights_only=True refused: {str(e).splitlines()[0]})") from None


def read_architecture(folder: Path) -> dict:
    return json.loads((Path(folder) / ARCHITECTURE).read_text())


def read_preprocessor(folder: Path) -> Preprocessor:
    return Preprocessor.load(Path(folder) / PREPROCESS)


def read_temperature(folder: Path) -> float:
    path = Path(folder) / CALIBRATION
    return float(json.loads(path.read_text())["temperature"]) if path.exists() else 1.0


def has_weights(folder: Path) -> bool:
    return (Path(folder) / WEIGHTS).exists() or (Path(folder) / BOOSTING).exists()


def weights_hash(folder: Path) -> str:
    """SHA-256 of the folder's weights (or boosting model) file: identifies the trained model."""
    return file_sha256(Path(folder) / (BOOSTING if kind(folder) == "boosting" else WEIGHTS))


def onnx_path(folder: Path) -> Path:
    return Path(folder) / ONNX


def serving_file(serving_dir: Path) -> Path:
    """The benchmark's recommendation that the serving path reads."""
    return Path(serving_dir) / SERVING_FILE


def student_dir(serving_dir: Path) -> Path:
    """The distilled student's model folder inside the serving folder."""
    return Path(serving_dir) / STUDENT_DIR
