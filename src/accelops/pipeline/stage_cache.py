"""Content-hash cache keys for the training flow's stages: a rerun after a failure skips the stages whose
inputs did not change (what `dvc repro` does with dvc.lock, for flow runs).

A stage's key hashes what `STAGE_IO` declares it reads (accelops.pipeline.catalogue): the values of its
params keys, the content of its input files, its source code, and the flow's own arguments to it (the
data file a run validates, by content). When the stage succeeds, its key and the hashes of the files it
wrote are recorded in `layout.stage_keys_dir/<stage>.json`. In the next run a stage whose key matches, and
whose files are still the ones it wrote, is not run: its typed result is read back from its report.

A training run that completes removes the records (`forget`), so only a rerun after a failure reuses
stages: a nightly run after a successful one trains again. `register` and `materialize` are never
skipped: register decides a version in the registry, and materialize loads the online store
incrementally on its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from accelops.config import Params
from accelops.hashing import file_sha256, json_digest
from accelops.pipeline.catalogue import STAGE_IO

R = TypeVar("R", bound=BaseModel)
log = logging.getLogger("accelops.stages")


def _results() -> dict[str, tuple[str, tuple[type[BaseModel], ...]]]:
    """Each cached stage's report (a layout name) and the typed results it may hold."""
    from accelops.evaluation.schema import EvaluationReport
    from accelops.features.schema import FeaturesSummary
    from accelops.serving.schema import BenchmarkResult, BenchmarkSkipped
    from accelops.training.schema import TrainingSummary
    from accelops.validation.batch_check import BatchReport

    return {"validate": ("validation_report", (BatchReport,)), "features": ("feature_stats", (FeaturesSummary,)),
            "train": ("training_summary", (TrainingSummary,)), "evaluate": ("evaluation_report", (EvaluationReport,)),
            "benchmark": ("benchmark_result", (BenchmarkResult, BenchmarkSkipped))}


def run(params: Params, stage: str, work: Callable[[], R], files: Sequence[Path | str | None] = (),
        arguments: dict | None = None) -> R:
    """work() unless this stage's record says the same inputs already gave the files that are there;
    records the stage's key when work() returns. `files` and `arguments`: what the flow passes the stage
    beyond params (a data file, by content; a timestamp)."""
    key = stage_key(params, stage, files, arguments)
    reused = _reuse(params, stage, key)
    if reused is not None:
        log.info("%s: inputs unchanged since it last succeeded (key %s): its outputs are reused", stage, key[:12])
        return reused
    result = work()
    _record(params, stage, key)
    return result


def forget(params: Params) -> None:
    """Remove every record: the next run runs every stage (called when a training run completes)."""
    folder = params.layout.stage_keys_dir
    for record in folder.glob("*.json") if folder.exists() else ():
        record.unlink(missing_ok=True)


def stage_key(params: Params, stage: str, files: Sequence[Path | str | None] = (),
              arguments: dict | None = None) -> str:
    io, lay = STAGE_IO[stage], params.layout
    values = params.model_dump(mode="json", by_alias=True)
    return json_digest({
        "params": {name: _at(values, name) for name in io.params},
        "deps": {name: content_hash(getattr(lay, name)) for name in io.deps if getattr(lay, name) is not None},
        "code": {path: content_hash(_source(path)) for path in io.code},
        "files": [content_hash(Path(f)) for f in files if f],
        "arguments": arguments or {},
    })


def content_hash(path: Path | None) -> str:
    """sha256 of a file, of a folder's files with their relative paths, or "missing"."""
    if path is None or not path.exists():
        return "missing"
    if path.is_file():
        return file_sha256(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return json_digest([[str(p.relative_to(path)), file_sha256(p)] for p in files])


def _reuse(params: Params, stage: str, key: str) -> BaseModel | None:
    record_path = params.layout.stage_keys_dir / f"{stage}.json"
    if stage not in _results() or not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("key") != key or record.get("outputs") != _outputs(params, stage):
        return None
    name, types = _results()[stage]
    text = getattr(params.layout, name).read_text()
    for kind in types:
        try:
            return kind.model_validate_json(text)
        except ValueError:
            continue
    return None


def _record(params: Params, stage: str, key: str) -> None:
    if stage not in _results():
        return
    folder = params.layout.stage_keys_dir
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{stage}.json.tmp"
    tmp.write_text(json.dumps({"stage": stage, "key": key, "outputs": _outputs(params, stage)}, indent=1))
    tmp.replace(folder / f"{stage}.json")                  # whole or absent, never half-written


def _outputs(params: Params, stage: str) -> dict[str, str]:
    lay = params.layout
    return {name: content_hash(getattr(lay, name)) for name in STAGE_IO[stage].entries()
            if getattr(lay, name) is not None}


def _source(path: str) -> Path:
    """A catalogue code path ("src/accelops/...") in this installation."""
    import accelops

    return Path(accelops.__file__).resolve().parent.parent / Path(path).relative_to("src")


def _at(values: dict, dotted: str):
    for part in dotted.split("."):
        values = values.get(part) if isinstance(values, dict) else None
    return values
