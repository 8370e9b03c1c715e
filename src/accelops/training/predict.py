"""Load a saved model directory and score frames. Weights load with weights_only=True.

Probabilities apply the temperature fitted on the validation split (calibration.json), so the
served model is calibrated; `predict_logits` gives the raw network output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.training.preprocess import Preprocessor
from accelops.training.train import ARCH, CALIBRATION, PREPROCESS, WEIGHTS


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
        calibration = model_dir / CALIBRATION
        self.temperature = float(json.loads(calibration.read_text())["temperature"]) if calibration.exists() else 1.0

    def _tensors(self, df: pd.DataFrame):
        import torch

        xn, xc = self.preprocessor.transform(df)
        return torch.from_numpy(xn).to(self.device), torch.from_numpy(xc).to(self.device)

    def predict_logits(self, df: pd.DataFrame, batch_size: int = 65536) -> np.ndarray:
        import torch

        xn, xc = self._tensors(df)
        out = np.empty(len(df), dtype=np.float64)
        with torch.inference_mode():
            for s in range(0, len(df), batch_size):
                out[s:s + batch_size] = self.model(xn[s:s + batch_size], xc[s:s + batch_size]).double().cpu().numpy()
        return out

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.predict_logits(df) / self.temperature))

    def fgsm_proba(self, df: pd.DataFrame, y: np.ndarray, epsilon: float) -> np.ndarray:
        """Probabilities after an FGSM step of size `epsilon` (in standard deviations) on the
        numeric inputs, in the direction that increases the loss for the true labels."""
        import torch

        xn, xc = self._tensors(df)
        xn = xn.clone().requires_grad_(True)
        target = torch.as_tensor(np.asarray(y), dtype=torch.float32, device=self.device)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(self.model(xn, xc), target)
        (grad,) = torch.autograd.grad(loss, xn)
        with torch.inference_mode():
            logits = self.model(xn.detach() + epsilon * grad.sign(), xc).double().cpu().numpy()
        return 1.0 / (1.0 + np.exp(-logits / self.temperature))
