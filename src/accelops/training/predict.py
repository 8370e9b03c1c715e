"""Load a saved model directory (a network or a gradient-boosting model) and score frames. Network
weights load with weights_only=True; boosting models through skops' allow-list.

Probabilities apply the temperature fitted on the validation split (the folder's calibration), so
the served model is calibrated; `predict_logits` gives the raw model output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from accelops.training import model_folder


class Predictor:
    def __init__(self, model_dir: str | Path, device: str = "cpu", threads: int = 0):
        self.kind = model_folder.kind(Path(model_dir))
        self.device = device
        self.threads = threads
        if self.kind == "boosting":
            self.preprocessor = model_folder.read_preprocessor(Path(model_dir))
            self.model = model_folder.load_boosting(Path(model_dir))
            self.temperature = model_folder.read_temperature(Path(model_dir))
        else:
            saved = model_folder.load(Path(model_dir), device)
            self.preprocessor = saved.preprocessor
            self.model = saved.network
            self.temperature = saved.temperature

    @property
    def differentiable(self) -> bool:
        """True for a network (FGSM and distillation need its gradients)."""
        return self.kind == "network"

    def _tensors(self, df: pd.DataFrame):
        import torch

        xn, xc = self.preprocessor.transform(df)
        return torch.from_numpy(xn).to(self.device), torch.from_numpy(xc).to(self.device)

    def predict_logits(self, df: pd.DataFrame, batch_size: int = 65536) -> np.ndarray:
        import torch

        if self.kind == "boosting":
            from threadpoolctl import threadpool_limits

            from accelops.runtime import available_cores
            from accelops.training.baseline import design

            with threadpool_limits(limits=self.threads or available_cores()):
                return self.model.decision_function(design(*self.preprocessor.transform(df))).astype(np.float64)
        xn, xc = self._tensors(df)
        out = np.empty(len(df), dtype=np.float64)
        with torch.inference_mode():
            for s in range(0, len(df), batch_size):
                out[s:s + batch_size] = self.model(xn[s:s + batch_size], xc[s:s + batch_size]).double().cpu().numpy()
        return out

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        return model_folder.calibrated(self.predict_logits(df), self.temperature)

    def fgsm_proba(self, df: pd.DataFrame, y: np.ndarray, epsilon: float) -> np.ndarray:
        """Probabilities after an FGSM step of size `epsilon` (in standard deviations) on the
        numeric inputs, in the direction that increases the loss for the true labels (networks only)."""
        import torch

        if not self.differentiable:
            raise TypeError(f"FGSM needs gradients; a {self.kind} model has none")

        xn, xc = self._tensors(df)
        xn = xn.clone().requires_grad_(True)
        target = torch.as_tensor(np.asarray(y), dtype=torch.float32, device=self.device)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(self.model(xn, xc), target)
        (grad,) = torch.autograd.grad(loss, xn)
        with torch.inference_mode():
            logits = self.model(xn.detach() + epsilon * grad.sign(), xc).double().cpu().numpy()
        return model_folder.calibrated(logits, self.temperature)
