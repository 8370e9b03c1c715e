"""Small file helpers shared by the stage and monitoring functions."""

from __future__ import annotations

import json
from pathlib import Path

from accelops.errors import StageInputMissing


def need(path: Path, producer: str) -> Path:
    """`path`, or a StageInputMissing naming the stage that produces it."""
    if not path.exists():
        raise StageInputMissing(f"{path} does not exist: run the '{producer}' stage first")
    return path


def write_json(obj: dict, path: Path) -> Path:
    """Write atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    tmp.replace(path)
    return path
