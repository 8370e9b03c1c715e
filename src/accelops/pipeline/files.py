"""Small file helpers shared by the stage and monitoring functions: inputs that must exist, and
typed results written and read as JSON (atomically)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from accelops.errors import StageInputMissing

M = TypeVar("M", bound=BaseModel)


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


def write_model(model: BaseModel, path: Path) -> Path:
    """A stage's typed result as JSON (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(model.model_dump_json(indent=2))
    tmp.replace(path)
    return path


def read_model(cls: type[M], path: Path, producer: str) -> M:
    """The typed result a stage wrote to `path`; StageInputMissing names the stage when it is absent."""
    return cls.model_validate_json(need(path, producer).read_text())
