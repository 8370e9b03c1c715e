"""Training sizes that follow the data: a 500-row table and a 10M-row one get sensible optimiser
steps and label-check folds when params.yaml leaves them null (explicit values always win)."""

from __future__ import annotations

import math

from accelops.config import TrainParams

TARGET_STEPS = 2000                 # optimiser steps over a whole run, before early stopping
MIN_EPOCHS, MAX_EPOCHS = 10, 60
MIN_BATCH, MAX_BATCH = 32, 1024


def batch_size(rows: int) -> int:
    """About 50 optimiser steps per epoch: rows / 50 rounded to a power of two, within [32, 1024]."""
    target = max(1.0, rows / 50)
    return int(min(MAX_BATCH, max(MIN_BATCH, 2 ** round(math.log2(target)))))


def epochs(rows: int, batch: int) -> int:
    """Enough epochs for about TARGET_STEPS steps, within [10, 60] (early stopping may end sooner)."""
    steps_per_epoch = max(1, math.ceil(rows / batch))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_STEPS / steps_per_epoch))))


def label_folds(rows: int, minority: int) -> int:
    """Folds of the label check: 5 up to 100k rows, 3 above (each fold refits on most of the data),
    never more than the rarer class's count, at least 2."""
    return max(2, min(5 if rows <= 100_000 else 3, minority))


def sized(params: TrainParams, rows: int) -> TrainParams:
    """`params` with a null batch_size / epochs replaced by the values for `rows` training rows."""
    batch = params.batch_size or batch_size(rows)
    return params.model_copy(update={"batch_size": batch, "epochs": params.epochs or epochs(rows, batch)})
