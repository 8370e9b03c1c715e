"""Content hashes the pipeline records (input files, saved weights, profiles, suites, params).

Standard library only, so any layer may import it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_if_file(source: str | Path) -> str | None:
    """file_sha256 of `source` when it names a file; None otherwise (e.g. an in-memory frame's label)."""
    path = Path(source)
    return file_sha256(path) if path.is_file() else None


def json_digest(obj, length: int | None = None) -> str:
    """Hex SHA-256 of `obj` as canonical JSON (sorted keys; non-JSON values as str), cut to `length`."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
