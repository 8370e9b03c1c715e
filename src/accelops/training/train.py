"""Train the tabular MLP on the chosen device; save weights (state_dict) + preprocessing JSON.

Data stays resident on the device as whole tensors and is shuffled with randperm and
sliced per batch: no per-row Dataset in the hot loop.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import DatasetParams, TrainParams
from accelops.errors import TrainingError
from accelops.training.device import choose_device
from accelops.training.preprocess import Preprocessor

log = logging.getLogger(__name__)
WEIGHTS, PREPROCESS, ARCH, CALIBRATION = "model.pt", "preprocess.json", "architecture.json", "calibration.json"


@dataclass
class TrainResult:
    model_dir: Path
    device: str
    device_name: str
    threads: int
    epochs_run: int
    best_epoch: int
    best_valid_auc: float
    seconds: float
    temperature: float
    history: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model_dir"] = str(self.model_dir)
        return d


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def train_model(train_df: pd.DataFrame, valid_df: pd.DataFrame, contract: DatasetParams,
                params: TrainParams, out_dir: Path) -> TrainResult:
    import torch

    from accelops.training.model import build_model

    y_train = train_df[contract.label].to_numpy(np.float32)
    if len(np.unique(y_train)) < 2:
        raise TrainingError(f"training split has a single class ({contract.label}={y_train[0]:.0f}); cannot train")
    started = time.perf_counter()
    device = choose_device(params.device, params.threads)
    torch.manual_seed(params.seed)
    np.random.seed(params.seed)
    dev = torch.device(device.type)

    pre = Preprocessor.fit(train_df, list(contract.numeric_features), list(contract.categorical_features))
    xn, xc = (torch.from_numpy(a).to(dev) for a in pre.transform(train_df))
    yt = torch.from_numpy(y_train).to(dev)
    vn, vc = (torch.from_numpy(a).to(dev) for a in pre.transform(valid_df))
    y_valid = valid_df[contract.label].to_numpy(np.float32)

    arch = {"n_numeric": len(pre.numeric), "cardinalities": pre.cardinalities,
            "embedding_dim": params.embedding_dim, "hidden": list(params.hidden), "dropout": params.dropout}
    model = build_model(**arch).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator(device="cpu").manual_seed(params.seed)

    best_auc, best_epoch, best_state, history, stale = -1.0, 0, None, [], 0
    n = len(yt)
    for epoch in range(1, params.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen).to(dev)
        total = 0.0
        for start in range(0, n, params.batch_size):
            idx = perm[start:start + params.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xn[idx], xc[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            p_valid = torch.sigmoid(model(vn, vc)).float().cpu().numpy()
        valid_auc = _auc(y_valid, p_valid)
        history.append({"epoch": epoch, "train_loss": total / n, "valid_auc": valid_auc})
        log.info("epoch %d/%d  train_loss=%.4f  valid_auc=%.4f", epoch, params.epochs, total / n, valid_auc)
        if valid_auc > best_auc + 1e-5:
            best_auc, best_epoch, stale = valid_auc, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= params.patience:
                log.info("early stop: no validation AUC gain for %d epochs", stale)
                break

    # temperature scaling on the validation split, applied by the served model
    from accelops.evaluation.calibration import fit_temperature

    model.load_state_dict(best_state)
    with torch.no_grad():
        valid_logits = model(vn, vc).double().cpu().numpy()
    temperature = fit_temperature(y_valid, valid_logits)

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    torch.save(best_state, tmp / WEIGHTS)
    (tmp / CALIBRATION).write_text(json.dumps({"temperature": temperature, "fitted_on": "valid",
                                               "rows": int(len(y_valid))}, indent=2))
    pre.save(tmp / PREPROCESS)
    (tmp / ARCH).write_text(json.dumps(arch, indent=2))
    _replace_dir(tmp, out_dir)  # never leave a half-written model behind
    return TrainResult(out_dir, device.type, device.name, device.threads, len(history), best_epoch,
                       best_auc, time.perf_counter() - started, temperature, history)


def _replace_dir(src: Path, dst: Path) -> None:
    import shutil

    if dst.exists():
        old = dst.with_name(dst.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        dst.replace(old)
        src.replace(dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        src.replace(dst)
