"""A distilled student: a smaller network trained on the teacher's calibrated probabilities
(soft labels) over the training split, saved in serving_dir/student with the
teacher's preprocessing and its own ONNX export, so every runtime can serve it."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import StudentParams
from accelops.serving.variants import STUDENT_DIR

log = logging.getLogger(__name__)


def distill(model_dir: Path, train_df: pd.DataFrame, student: StudentParams, serving_dir: Path, seed: int = 0,
            batch_size: int = 1024, lr: float = 3e-3) -> dict:
    import torch

    from accelops.training.export import export_module
    from accelops.training.model import build_model
    from accelops.training.predict import Predictor
    from accelops.training.train import ARCH, CALIBRATION, PREPROCESS, WEIGHTS, _replace_dir

    started = time.perf_counter()
    model_dir = Path(model_dir)
    teacher = Predictor(model_dir)
    soft = torch.from_numpy(teacher.predict_proba(train_df).astype(np.float32))
    xn, xc = teacher._tensors(train_df)
    arch = json.loads((model_dir / ARCH).read_text()) | {"hidden": list(student.hidden), "dropout": 0.0}
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
    out = Path(serving_dir) / STUDENT_DIR
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(net.state_dict(), tmp / WEIGHTS)
    shutil.copy(model_dir / PREPROCESS, tmp / PREPROCESS)
    (tmp / ARCH).write_text(json.dumps(arch, indent=2))
    # trained on calibrated probabilities, so its own logits are already on that scale
    (tmp / CALIBRATION).write_text(json.dumps({"temperature": 1.0, "fitted_on": "teacher soft labels"}))
    export_module(net, xn[:2048], xc[:2048], tmp / "model.onnx")
    _replace_dir(tmp, out)
    params_teacher = sum(p.numel() for p in teacher.model.parameters())
    params_student = sum(p.numel() for p in net.parameters())
    log.info("distilled student %s: %d parameters (teacher %d) in %.1f s", student.hidden, params_student,
             params_teacher, time.perf_counter() - started)
    return {"dir": str(out), "hidden": list(student.hidden), "parameters": params_student,
            "teacher_parameters": params_teacher, "seconds": time.perf_counter() - started}
