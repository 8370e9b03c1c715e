"""The serving path's scorer: the variant the benchmark recommended (the serving folder's
serving.json) for the mode asked, falling back to the CPU recommendation when the recommended
device is absent here, and to the reference variant (fp32 torch eager for a network, scikit-learn
for a gradient-boosting model) for a model served without a benchmark."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from accelops.serving.variants import Variant, load_runner, present_devices, reference_for, supported, temperature
from accelops.training import model_folder

log = logging.getLogger(__name__)
DEFAULT_BATCH = 65536


def choose(serving_dir: Path | None, mode: Literal["online", "batch"],
           reference: Variant) -> tuple[Variant, int, str]:
    """(variant, batch size, why) for `mode` from the serving folder's recommendation."""
    path = model_folder.serving_file(serving_dir) if serving_dir else None
    if path is None or not path.exists():
        return reference, DEFAULT_BATCH, f"no {model_folder.SERVING_FILE} (model not benchmarked): {reference.name}"
    config = json.loads(path.read_text())
    for source, pick in (("recommended", config.get(mode)), ("CPU fallback", config["cpu_fallback"].get(mode))):
        if pick is None:
            continue
        v = Variant.parse(pick["variant"])
        if v.device in present_devices() and supported(v) is None:
            return v, int(pick["batch_size"]), f"{source} {mode} variant"
    return reference, DEFAULT_BATCH, f"no recommended {mode} variant runs here: {reference.name}"


class Scorer:
    """Calibrated probabilities for frames of contract features, on the recommended variant.
    Batch mode scores in chunks of the recommended batch size; online mode one call per request."""

    def __init__(self, model_dir: str | Path, serving_dir: str | Path | None = None,
                 mode: Literal["online", "batch"] = "batch", threads: int = 0):
        from accelops.runtime import available_cores

        self.model_dir = Path(model_dir)
        self.serving_dir = Path(serving_dir) if serving_dir else None
        self.mode = mode
        self.variant, self.batch_size, self.why = choose(self.serving_dir, mode, reference_for(self.model_dir))
        self.preprocessor = model_folder.read_preprocessor(self.model_dir)
        self.runner = load_runner(self.model_dir, self.variant, threads or available_cores(), self.serving_dir)
        self.temperature = temperature(self.model_dir, self.variant, self.serving_dir)
        log.info("serving (%s) with %s: %s", mode, self.variant.name, self.why)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        xn, xc = self.preprocessor.transform(df)
        out = np.empty(len(df), dtype=np.float64)
        step = len(df) if self.mode == "online" else max(self.batch_size, 1024)
        for s in range(0, len(df), max(step, 1)):
            out[s:s + step] = np.asarray(self.runner(xn[s:s + step], xc[s:s + step])).reshape(-1)
        return model_folder.calibrated(out, self.temperature)
