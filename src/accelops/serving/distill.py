"""A distilled student: a smaller network trained on the teacher's calibrated probabilities
(soft labels) over the training split, saved as a model folder inside the serving folder with the
teacher's preprocessing and its own ONNX export, so every runtime can serve it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import StudentParams
from accelops.training import model_folder

log = logging.getLogger(__name__)


def distill(model_dir: Path, train_df: pd.DataFrame, student: StudentParams, serving_dir: Path, seed: int = 0,
            batch_size: int = 1024, lr: float = 3e-3) -> dict:
    import torch

    from accelops.training.export import export_module
    from accelops.training.model import build_model
    from accelops.training.predict import Predictor

    started = time.perf_counter()
    model_dir = Path(model_dir)
    teacher = Predictor(model_dir)
    soft = torch.from_numpy(teacher.predict_proba(train_df).astype(np.float32))
    xn, xc = teacher._tensors(train_df)
    arch = model_folder.read_architecture(model_dir) | {"hidden": list(student.hidden), "dropout": 0.0}
    torch.manual_seed(seed)
    net = build_model(**arch)
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    steps = student.epochs * -(-len(xn) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.BCEWithLogitsLoss()   # against soft targets: cross-entropy to the teacher
    for epoch in range(student.epochs):
        net.train()
        perm = torch.randperm(len(xn), generator=gen)
        for s in range(0, len(xn), batch_size):
            idx = perm[s:s + batch_size]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xn[idx], xc[idx]), soft[idx]).backward()
            opt.step()
            sched.step()
    net.eval()
    # trained on calibrated probabilities, so its own logits are already on that scale
    out = model_folder.save(model_folder.student_dir(serving_dir), net.state_dict(), teacher.preprocessor, arch,
                            {"temperature": 1.0, "fitted_on": "teacher soft labels"},
                            onnx=lambda path: export_module(net, xn[:2048], xc[:2048], path))
    params_teacher = sum(p.numel() for p in teacher.model.parameters())
    params_student = sum(p.numel() for p in net.parameters())
    log.info("distilled student %s: %d parameters (teacher %d) in %.1f s", student.hidden, params_student,
             params_teacher, time.perf_counter() - started)
    return {"dir": str(out), "hidden": list(student.hidden), "parameters": params_student,
            "teacher_parameters": params_teacher, "seconds": time.perf_counter() - started}
