"""Helpers shared by tests: the repo root and small params in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

SMALL = {
    "generate": {"rows": 4000, "days": 60, "start": "2026-06-01", "seed": 3},
    "train": {"epochs": 4, "threads": 1, "batch_size": 256, "patience": 2},
    "validate": {"min_rows": 50},
    "evaluate": {"min_slice_support": 30},
    "monitor": {"batch_rows": 3000, "batch_days": 7, "reference_rows": 5000},
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
