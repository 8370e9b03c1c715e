"""ONNX export of the trained network (torch.export-based exporter), checked against torch.

The file is self-contained (weights inline, no external-data side file), so it can be copied,
logged and served on its own."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.errors import TrainingError
from accelops.training import model_folder

log = logging.getLogger(__name__)


def export_module(model, xn, xc, path: Path, tolerance: float = 1e-5) -> dict:
    """Export `model(x_num, x_cat)` to `path` (dynamic batch) and verify ONNX Runtime's logits match
    torch's on (xn, xc) within `tolerance`; returns {"path", "max_abs_diff", "rows"}."""
    import onnxruntime as ort
    import torch

    from accelops.runtime import reroute_tools

    reroute_tools("torch")        # torch's exporter warnings (torchvision ops) go to the tools log
    batch = torch.export.Dim("batch")
    path = Path(path)
    tmp = path.with_suffix(".onnx.tmp")
    torch.onnx.export(model, (xn[:2], xc[:2]), str(tmp), input_names=["numeric", "categorical"],
                      output_names=["logit"], dynamic_shapes={"x_num": {0: batch}, "x_cat": {0: batch}},
                      dynamo=True, external_data=False, verbose=False)
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    onnx_logits = session.run(None, {"numeric": xn.numpy(), "categorical": xc.numpy()})[0]
    with torch.inference_mode():
        torch_logits = model(xn, xc).numpy()
    diff = float(np.max(np.abs(onnx_logits - torch_logits))) if len(xn) else 0.0
    if not diff <= tolerance:
        tmp.unlink(missing_ok=True)
        raise TrainingError(f"ONNX export differs from torch by {diff:.2e} (> {tolerance:.0e}) on {len(xn)} rows")
    tmp.replace(path)
    log.info("exported %s (max |logit diff| vs torch %.1e on %d rows)", path, diff, len(xn))
    return {"path": str(path), "max_abs_diff": diff, "rows": int(len(xn))}


def export_onnx(model_dir: Path, sample: pd.DataFrame, tolerance: float = 1e-5) -> dict:
    """Write the ONNX export into the model folder `model_dir`, verified on `sample`."""
    from accelops.training.predict import Predictor

    predictor = Predictor(model_dir)
    xn, xc = predictor._tensors(sample)
    return export_module(predictor.model, xn, xc, model_folder.onnx_path(model_dir), tolerance)
