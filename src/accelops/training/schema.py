"""Typed results of the training stage: the network's run, its gradient-boosting baseline, which of
the two became the challenger, and the network's ONNX export (reports/training.json is a
`TrainingSummary`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from accelops.evaluation.schema import OverallMetrics


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EpochRecord(_Record):
    epoch: int
    train_loss: float
    valid_auc: float
    lr: float


class TrainResult(_Record):
    """One training run of the network (train_model's return value)."""
    model_dir: Path
    device: str
    device_name: str
    threads: int
    precision: str
    epochs_run: int
    best_epoch: int
    best_valid_auc: float
    seconds: float
    temperature: float
    resumed_from_epoch: int = 0
    batch_size: int = 0             # as trained: train.batch_size, or sized from the training rows when null
    max_epochs: int = 0             # train.epochs, likewise
    world_size: int = 1             # processes that trained it (torchrun: train.distributed)
    history: list[EpochRecord] = []


class BaselineResult(OverallMetrics):
    """The gradient-boosting baseline on the same split: test metrics and its own early stopping."""
    seconds: float
    iterations: int
    best_valid_auc: float


class OnnxExport(_Record):
    path: str
    max_abs_diff: float
    rows: int


class TrainingSummary(TrainResult):
    """reports/training.json: the network's run, the rows per split, the baseline, the ONNX check, and
    the challenger: the candidate allowed by train.candidates with the best validation AUC."""
    rows: dict[str, int]
    baseline: BaselineResult
    onnx: OnnxExport
    challenger: Literal["network", "boosting"] = "network"
    valid_auc: dict[str, float] = {}
    challenger_reason: str = ""
    tuning: "TuningResult | None" = None    # the search behind the network's values (train.tuning.trials > 0)


class TrialRecord(_Record):
    """One Optuna trial: the values it tried and how it ended."""
    number: int
    state: Literal["COMPLETE", "PRUNED", "FAIL"]
    valid_auc: float | None = None      # best validation AUC over its epochs (None when it failed)
    epochs: int = 0                     # epochs it ran (a pruned trial stops early)
    seconds: float = 0.0
    values: dict[str, float | int | str | None] = {}
    note: str = ""                      # why it failed


class TuningResult(_Record):
    """reports/tuning.json: the study searched before the final fit (train.tuning)."""
    study: str                          # Optuna study name: the training set's hash and the train params
    storage: str                        # where the study lives (a journal file, or a database URL without password)
    trials: list[TrialRecord]
    best_number: int
    best_values: dict[str, float | int | str | None]
    best_valid_auc: float
    default_valid_auc: float            # trial 0: the params as written, on the same split
    seconds: float                      # the trials' time, summed (from ask to tell)

    @property
    def gain(self) -> float:
        return self.best_valid_auc - self.default_valid_auc


TrainingSummary.model_rebuild()
