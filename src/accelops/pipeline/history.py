"""One growing history: the data every training run reads when it is given none. It starts as
paths.history; each drift-triggered retraining whose data passes validation (the history so far plus
the landed windows' labelled rows) becomes the current history, so the next nightly run trains on it
too. A pointer file in the workdir names it; replacing paths.history (new raw data, `dvc pull`)
starts over from that file."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from accelops.config import Params
from accelops.hashing import file_sha256

log = logging.getLogger("accelops.history")


class CurrentHistory(BaseModel):
    """workdir/data/current_history.json: which file is the history now, and what it grew from."""
    path: str
    sha256: str
    rows: int
    base: str               # paths.history ...
    base_sha256: str        # ... as it was when this history grew from it
    accepted_at: str
    reason: str


def current(params: Params) -> Path:
    """The file a training run without `data` reads: the pointer's file while it is intact and grew from
    the present paths.history, else paths.history itself."""
    lay = params.layout
    pointer = lay.history_pointer
    if not pointer.exists():
        return lay.history
    record = CurrentHistory.model_validate_json(pointer.read_text())
    path = Path(record.path)
    if not lay.history.exists() or file_sha256(lay.history) != record.base_sha256:
        log.info("paths.history changed since the history grew from it: training on %s", lay.history)
        return lay.history
    if not path.exists() or file_sha256(path) != record.sha256:
        log.warning("%s: the current history is missing or changed; training on %s", path, lay.history)
        return lay.history
    return path


def advance(params: Params, path: Path, rows: int, reason: str) -> CurrentHistory:
    """Make `path` (accepted by validation) the current history; written atomically."""
    lay = params.layout
    record = CurrentHistory(path=str(Path(path).resolve()), sha256=file_sha256(path), rows=rows,
                            base=str(lay.history), base_sha256=file_sha256(lay.history),
                            accepted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), reason=reason)
    lay.history_pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = lay.history_pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.model_dump(), indent=2))
    tmp.replace(lay.history_pointer)
    log.info("current history: %s (%d rows)", path, rows)
    return record
