"""The benchmarks' common ending: write bench/results/<name>.json and print it as the last line."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def emit(name: str, out: dict, folder: str | Path | None = None) -> Path:
    folder = Path(folder) if folder else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(out, indent=2, default=float))
    print(json.dumps(out, default=float))
    return path


def model_frame(params, rows: int, seed: int):
    """(synthetic history with the windowed aggregates the features stage adds, the model's contract):
    what the default model trains on, without running the pipeline."""
    from accelops.data.generator import generate
    from accelops.features.windows import with_windows

    c = params.dataset
    g = params.generate
    frame = with_windows(generate(rows, g.days, g.start, seed=seed).frame, c.entity_id, c.timestamp,
                         params.features.windows)
    return frame, params.model_contract
