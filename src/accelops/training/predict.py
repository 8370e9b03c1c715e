"""Load a saved model directory and score frames. Weights load with weights_only=True."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.training.preprocess import Preprocessor
from accelops.training.train import ARCH, PREPROCESS, WEIGHTS


class Predictor:
    def __init__(self, model_dir: str | Path, device: str = "cpu"):
        import torch

        from accelops.training.model import build_model

        model_dir = Path(model_dir)
        self.preprocessor = Preprocessor.load(model_dir / PREPROCESS)
        arch = json.loads((model_dir / ARCH).read_text())
        self.model = build_model(**arch)
        self.model.load_state_dict(torch.load(model_dir / WEIGHTS, map_location=device, weights_only=True))
        self.model.eval()
        self.device = device

    def predict_proba(self, df: pd.DataFrame, batch_size: int = 65536) -> np.ndarray:
        import torch

        xn, xc = self.preprocessor.transform(df)
        out = np.empty(len(df), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(df), batch_size):
                n = torch.from_numpy(xn[s:s + batch_size]).to(self.device)
                c = torch.from_numpy(xc[s:s + batch_size]).to(self.device)
                out[s:s + batch_size] = torch.sigmoid(self.model(n, c)).float().cpu().numpy()
        return out
