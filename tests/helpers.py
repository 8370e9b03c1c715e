"""Helpers shared by tests: the repo root, small params in a temporary folder, and trained projects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from pydantic import BaseModel

    from accelops.config import Params

REPO = Path(__file__).resolve().parents[1]

SMALL = {
    "generate": {"rows": 4000, "days": 60, "start": "2026-06-01", "seed": 3},
    "train": {"epochs": 4, "threads": 1, "batch_size": 256, "patience": 2},
    "validate": {"min_rows": 50},
    "evaluate": {"min_slice_support": 30},
    "monitor": {"batch_rows": 3000, "batch_days": 7, "reference_rows": 5000, "settle_seconds": 0, "model_rows": 3000},
    # the real benchmark, kept short: two batch sizes, no torch.compile (tested on its own)
    "benchmark": {"batch_sizes": [1, 256], "runtimes": ["eager", "onnxruntime"], "precisions": ["fp32", "int8"],
                  "student": {"epochs": 1}, "warmup": 1, "min_repeats": 3, "max_seconds_per_cell": 0.02,
                  "threads": 1},
}


def write_params(folder: Path, **overrides) -> Path:
    """A params.yaml in `folder` with every path inside it and small sizes; returns its path."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["paths"] = {"workdir": str(folder / "work"), "history": str(folder / "history.parquet"),
                    "feature_repo": str(REPO / "feature_repo")}
    for section, values in {**SMALL, **overrides}.items():
        if isinstance(values, dict):
            raw.setdefault(section, {}).update(values)
        else:
            raw[section] = values
    path = folder / "params.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@dataclass(frozen=True)
class Project:
    """A project folder: its params.yaml, the params loaded from it and the typed result of each stage run."""

    path: Path
    params: Params
    out: dict[str, BaseModel]

    @property
    def folder(self) -> Path:
        return self.path.parent


def train_project(folder: Path) -> Project:
    """generate -> every training stage (accelops.pipeline.stages) on the small params, in `folder`."""
    from accelops.config import load_params
    from accelops.pipeline import stages

    path = write_params(folder)
    params = load_params(path)
    return Project(path, params, {name: stages.STAGES[name](params) for name in ("generate", *stages.TRAINING_STAGES)})


def copy_project(project: Project, folder: Path) -> Project:
    """A private copy of `project` in `folder` that shares no file with it: params.yaml and MLflow's
    store (experiment artifact root, run and model sources are absolute) point into the copy, and the
    Feast definitions are applied again (the registry names the feature table by its absolute path).
    `out` is the original's stage results (same run ids and versions; their paths name the original)."""
    import shutil
    import sqlite3

    from accelops.config import load_params
    from accelops.features import store as fs
    from accelops.registry.tracking import tracking_uri

    shutil.copytree(project.folder, folder)
    old, new = str(project.folder), str(folder)
    path = folder / project.path.name
    path.write_text(path.read_text().replace(old, new))
    params = load_params(path)
    with sqlite3.connect(tracking_uri(params).removeprefix("sqlite:///")) as db:
        tables = [t for (t,) in db.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            texts = [c[1] for c in db.execute(f'pragma table_info("{table}")') if "CHAR" in c[2] or "TEXT" in c[2]]
            for col in texts:
                db.execute(f'update "{table}" set "{col}" = replace("{col}", ?, ?) where instr("{col}", ?) > 0',
                           (old, new, old))
    fs.apply(params, params.layout.features_table)
    return Project(path, params, project.out)


class PartsInProcess:
    """A fan-out (accelops.fanout.Fanout) that reports `workers` pieces at once but runs them here one after
    another: the partitioned code path (split, pieces, put back) without a cluster."""

    def __init__(self, workers: int = 3):
        self.workers, self.pieces = workers, 0

    def map(self, fn, items, **shared):
        self.pieces += len(items)
        return [fn(item, **shared) for item in items]
