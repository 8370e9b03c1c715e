"""Train the tabular MLP on the chosen device; save it as a model folder (training.model_folder).

Data stays resident on the device as whole tensors and is shuffled with randperm and sliced
per batch: no per-row Dataset in the hot loop. AdamW with a one-cycle schedule, gradient
clipping, optional class weighting, bf16 autocast where the hardware has it, early stopping on
validation AUC, and a checkpoint after every epoch (model, optimiser, scheduler, RNG states,
history) so a killed run resumes and ends exactly where an uninterrupted one would.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from accelops.config import Contract, TrainParams
from accelops.errors import TrainingError
from accelops.runtime import threads_for
from accelops.training import model_folder, sizing
from accelops.training.device import choose_device, choose_precision
from accelops.training.preprocess import Preprocessor
from accelops.training.schema import TrainResult

log = logging.getLogger(__name__)
CHECKPOINT = "last.pt"


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from accelops.evaluation.metrics import fast_auc

    return fast_auc(y, p)


def _load_checkpoint(path: Path | None, fingerprint: str):
    from accelops.training.model_folder import load_weights

    if path is None or not path.exists():
        return None
    state = load_weights(path)
    if state.get("fingerprint") != fingerprint:
        log.warning("ignoring checkpoint %s: it belongs to other data or parameters", path)
        return None
    return state


def _save_checkpoint(path: Path, state: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a kill never leaves a torn checkpoint


@dataclass
class _Run:
    """Everything one training run holds: data resident on the device, the network (and its DDP
    wrapper), optimiser, schedule, loss, the permutation RNG and where this rank's share lies."""
    dev: object
    autocast: dict
    xn: object
    xc: object
    yt: object
    vn: object
    vc: object
    y_valid: np.ndarray
    model: object
    net: object
    opt: object
    sched: object
    loss_fn: object
    gen: object
    rank: int
    world: int
    n: int                  # rows per rank per epoch
    local_batch: int


@dataclass
class _Progress:
    """What early stopping and a resumed run need: the best epoch so far and the history."""
    best_auc: float = -1.0
    best_epoch: int = 0
    best_state: dict | None = None
    history: list[dict] = field(default_factory=list)
    stale: int = 0
    epoch: int = 0          # the last completed epoch


def train_model(train_df: pd.DataFrame, valid_df: pd.DataFrame, contract: Contract,
                params: TrainParams, out_dir: Path, checkpoint_dir: Path | None = None,
                fingerprint: str = "", on_epoch_end: Callable[[int, dict], None] | None = None) -> TrainResult:
    """Train, resuming from `checkpoint_dir` when a checkpoint of the same `fingerprint` is there;
    fit the temperature on the validation split and save the model folder (rank 0 only)."""
    y_train = train_df[contract.label].to_numpy(np.float32)
    if len(np.unique(y_train)) < 2:
        raise TrainingError(f"training split has a single class ({contract.label}={y_train[0]:.0f}); cannot train")
    started = time.perf_counter()
    if params.batch_size is None or params.epochs is None:
        params = sizing.sized(params, len(train_df))
        log.info("sized for %d training rows: batch_size %d, up to %d epochs (train.batch_size / train.epochs "
                 "set them)", len(train_df), params.batch_size, params.epochs)
    device = choose_device(params.device, threads_for(len(train_df), params.threads))
    precision = choose_precision(params.precision, device.type)
    pre = Preprocessor.fit(train_df, list(contract.numeric_features), list(contract.categorical_features))
    arch = {"n_numeric": len(pre.numeric), "cardinalities": pre.cardinalities,
            "embedding_dim": params.embedding_dim, "hidden": list(params.hidden), "dropout": params.dropout}
    run = _start(pre, arch, train_df, valid_df, y_train, contract.label, params, device.type, precision)
    ckpt_path = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir else None
    progress = _resume(run, ckpt_path, fingerprint)
    resumed_from = progress.epoch
    stopped = bool(progress.history) and progress.stale >= params.patience
    for epoch in range(progress.epoch + 1, params.epochs + 1):
        if stopped:
            break
        record = _epoch(run, params, epoch)
        stopped = _record(run, progress, record, params.patience)
        if ckpt_path is not None and run.rank == 0:
            _save_checkpoint(ckpt_path, _checkpoint(run, progress, fingerprint))
        if on_epoch_end is not None:
            on_epoch_end(epoch, record)
        if stopped:
            log.info("early stop: no validation AUC gain for %d epochs", progress.stale)

    if progress.best_state is None:
        raise TrainingError("validation AUC was undefined in every epoch (one class in the validation split?)")
    temperature = _fit_temperature(run, progress.best_state)
    result = TrainResult(model_dir=Path(out_dir), device=device.type, device_name=device.name, threads=device.threads,
                         precision=precision, epochs_run=len(progress.history), best_epoch=progress.best_epoch,
                         best_valid_auc=progress.best_auc, seconds=time.perf_counter() - started,
                         temperature=temperature, resumed_from_epoch=resumed_from, batch_size=params.batch_size,
                         max_epochs=params.epochs, world_size=run.world, history=progress.history)
    if run.rank != 0:
        return result  # only rank 0 writes the model
    model_folder.save(out_dir, progress.best_state, pre, arch,
                      {"temperature": temperature, "fitted_on": "valid", "rows": int(len(run.y_valid))})
    if ckpt_path is not None:
        ckpt_path.unlink(missing_ok=True)  # checkpoints are for crash recovery, not for the next run
    return result


def _start(pre: Preprocessor, arch: dict, train_df: pd.DataFrame, valid_df: pd.DataFrame, y_train: np.ndarray,
           label: str, params: TrainParams, device_type: str, precision: str) -> _Run:
    import torch

    from accelops.training.model import build_model

    torch.manual_seed(params.seed)
    dev = torch.device(device_type)
    xn, xc = (torch.from_numpy(a).to(dev) for a in pre.transform(train_df))
    vn, vc = (torch.from_numpy(a).to(dev) for a in pre.transform(valid_df))
    model = build_model(**arch).to(dev)
    # DistributedDataParallel when launched by torchrun: each rank takes an equal share of every
    # epoch's permutation and batch_size / world rows per step, so the global batch is unchanged.
    rank, world = _distributed()
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index or 0] if dev.type == "cuda" else None)
    n = len(y_train) // world
    local_batch = max(1, params.batch_size // world)
    opt = adamw(model.parameters(), params.lr, params.weight_decay, dev.type)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=params.lr, pct_start=0.2,
                                                total_steps=params.epochs * -(-n // local_batch))
    pos_weight = None
    if params.class_weight == "balanced":
        pos_weight = torch.tensor([(n - y_train.sum()) / max(y_train.sum(), 1)], device=dev)
    return _Run(dev=dev, autocast=dict(device_type=device_type, dtype=torch.bfloat16, enabled=precision == "bf16"),
                xn=xn, xc=xc, yt=torch.from_numpy(y_train).to(dev), vn=vn, vc=vc,
                y_valid=valid_df[label].to_numpy(np.float32), model=model, net=net, opt=opt, sched=sched,
                loss_fn=torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight),
                gen=torch.Generator(device="cpu").manual_seed(params.seed), rank=rank, world=world, n=n,
                local_batch=local_batch)


def _resume(run: _Run, ckpt_path: Path | None, fingerprint: str) -> _Progress:
    """The progress of a killed run of the same data and params, with every state restored; else a fresh one."""
    import torch

    state = _load_checkpoint(ckpt_path, fingerprint)
    if state is None:
        return _Progress()
    run.model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    run.sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    run.gen.set_state(state["perm_rng"])
    log.info("resuming from checkpoint after epoch %d", state["epoch"])
    return _Progress(best_auc=state["best_auc"], best_epoch=state["best_epoch"], best_state=state["best_state"],
                     history=state["history"], stale=state["stale"], epoch=state["epoch"])


def _checkpoint(run: _Run, progress: _Progress, fingerprint: str) -> dict:
    import torch

    return {"fingerprint": fingerprint, "epoch": progress.epoch, "model": run.model.state_dict(),
            "optimizer": run.opt.state_dict(), "scheduler": run.sched.state_dict(),
            "torch_rng": torch.get_rng_state(), "perm_rng": run.gen.get_state(),
            "best_auc": progress.best_auc, "best_epoch": progress.best_epoch, "stale": progress.stale,
            "best_state": progress.best_state, "history": progress.history}


def _epoch(run: _Run, params: TrainParams, epoch: int) -> dict:
    """One pass over this rank's share of a fresh permutation, then the validation AUC."""
    import torch

    run.model.train()
    perm = torch.randperm(len(run.yt), generator=run.gen)[run.rank::run.world][:run.n].to(run.dev)
    total = torch.zeros((), device=run.dev)
    for start in range(0, run.n, run.local_batch):
        idx = perm[start:start + run.local_batch]
        run.opt.zero_grad(set_to_none=True)
        with torch.autocast(**run.autocast):
            loss = run.loss_fn(run.net(run.xn[idx], run.xc[idx]).float(), run.yt[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), params.grad_clip)
        run.opt.step()
        run.sched.step()
        total += loss.detach() * len(idx)
    run.model.eval()
    with torch.no_grad(), torch.autocast(**run.autocast):
        p_valid = torch.sigmoid(run.model(run.vn, run.vc).float()).cpu().numpy()
    record = {"epoch": epoch, "train_loss": float(total) / run.n, "valid_auc": _auc(run.y_valid, p_valid),
              "lr": float(run.sched.get_last_lr()[0])}
    log.info("epoch %d/%d  train_loss=%.4f  valid_auc=%.4f", epoch, params.epochs, record["train_loss"],
             record["valid_auc"])
    return record


def _record(run: _Run, progress: _Progress, record: dict, patience: int) -> bool:
    """Keep the best weights; True when `patience` epochs passed without a validation AUC gain."""
    progress.history.append(record)
    progress.epoch = record["epoch"]
    if record["valid_auc"] > progress.best_auc + 1e-5:
        progress.best_auc, progress.best_epoch, progress.stale = record["valid_auc"], record["epoch"], 0
        progress.best_state = {k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()}
    else:
        progress.stale += 1
    return progress.stale >= patience


def _fit_temperature(run: _Run, best_state: dict) -> float:
    """Temperature scaling of the best weights on the validation split (applied by the served model)."""
    import torch

    from accelops.evaluation.calibration import fit_temperature

    run.model.load_state_dict(best_state)
    run.model.eval()
    with torch.no_grad(), torch.autocast(**run.autocast):
        valid_logits = run.model(run.vn, run.vc).double().cpu().numpy()
    return fit_temperature(run.y_valid, valid_logits)


def adamw(parameters, lr: float, weight_decay: float, device_type: str):
    """AdamW, fused into one kernel per step where torch has it (CPU and CUDA): the same update,
    measured +18% samples/s for the default model on 2 CPU cores (no change for a 109k MLP)."""
    import torch

    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay,
                             fused=device_type in ("cpu", "cuda") or None)


def _distributed() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
