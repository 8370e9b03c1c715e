"""Protect declared PII columns before anything is stored: drop them, or pseudonymise them
with a keyed HMAC-SHA256 (deterministic per key, irreversible without it)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

import pandas as pd

from accelops.config import PiiParams

log = logging.getLogger(__name__)


def hmac_key(params: PiiParams, key_file: Path) -> bytes:
    """The key from the environment; for local runs, one generated once into an ignored file."""
    if env := os.environ.get(params.key_env):
        return env.encode()
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
        log.warning("%s not set: generated a local pseudonymisation key at %s; set the variable "
                    "in production so hashes are stable across machines", params.key_env, key_file)
    return key_file.read_text().strip().encode()


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else
                      hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest())


def protect(df: pd.DataFrame, pii_columns: list[str], params: PiiParams, key_file: Path,
            text_columns: list[str] = ()) -> pd.DataFrame:
    """A copy of `df` in which no declared PII column holds a raw value and free text is redacted."""
    from accelops.validation.pii_scan import redact

    present = [c for c in pii_columns if c in df.columns]
    out = df.drop(columns=present) if params.policy == "drop" else df.copy()
    if params.policy == "hash":
        key = hmac_key(params, key_file)
        for col in present:
            out[col] = pseudonymise(out[col], key)
    for col in text_columns:
        if col in out.columns:
            out[col] = redact(out[col])
    return out
