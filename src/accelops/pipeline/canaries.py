"""Canaries: personal values planted in the declared PII columns of a copy of the history, a real
training flow run on it, and every file it wrote (MLflow's store and artifacts, the Feast registry and
online store, reports, Data Docs, the model, Prefect's database, the logs) and its console output
searched for them. A hit anywhere is a leak (NIST AI RMF MEASURE 2.10). The values are drawn fresh for
each run (this module's own text is shipped with every logged model, so constants would be found)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

def fresh_canaries() -> tuple[str, str, str]:
    """A person's name, an email and a phone number (UK drama range) no file can hold by chance."""
    import secrets

    token = secrets.token_hex(4)
    return (f"Xanthia Canarywood {token.upper()}", f"canary-{token}@leak.example",
            f"+44 7700 9{secrets.randbelow(10 ** 5):05d}")


def hits(path: Path, canaries: Iterable[str]) -> list[str]:
    """The canaries in one file: a Parquet file's text columns, any other file's bytes."""
    canaries = list(canaries)
    if path.suffix == ".parquet":
        import pandas as pd

        try:
            df = pd.read_parquet(path)
        except Exception:              # not readable as a table: search its bytes
            df = None
        if df is not None:
            text = "\n".join(df[c].astype(str).str.cat(sep="\n") for c in df.columns if df[c].dtype == object)
            return [c for c in canaries if c in text]
    data = path.read_bytes()
    return [c for c in canaries if c.encode() in data]


def sweep(roots: Iterable[Path], canaries: Iterable[str]) -> dict[str, Any]:
    """Every file under `roots` searched: how many, how many bytes, and which hold which canary."""
    files = [f for root in roots if Path(root).exists() for f in Path(root).rglob("*") if f.is_file()]
    leaks = {str(f): found for f in files if (found := hits(f, canaries))}
    return {"files": len(files), "bytes": sum(f.stat().st_size for f in files), "leaks": leaks}


def canary_run(params_path: Path, rows_planted: int = 50, timeout_s: float = 1800) -> dict[str, Any]:
    """Plant one canary per declared PII column in the first rows of a copy of the history, run
    `accelops run training` on a scratch copy of the project, sweep what it wrote and printed."""
    import shutil

    import pandas as pd
    import yaml

    from accelops.config import load_params
    from accelops.pipeline.faults import scratch_project

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="accelops-canaries-"))
    try:
        scratch = scratch_project(Path(params_path), folder)
        params = load_params(scratch)
        if not params.dataset.pii:
            return {"planted": 0, "detail": "no declared PII column (dataset.pii) to plant canaries in"}
        history = pd.read_parquet(params.layout.history) if params.layout.history.suffix == ".parquet" \
            else pd.read_csv(params.layout.history)
        planted = {}
        canaries = fresh_canaries()
        for i, column in enumerate(params.dataset.pii):
            value = canaries[i] if i < len(canaries) else f"{canaries[1].split('@')[0]}-{i}@leak.example"
            history[column] = history[column].astype(object)
            history.loc[: rows_planted - 1, column] = value
            planted[column] = value
        raw = yaml.safe_load(scratch.read_text())
        raw["paths"]["history"] = str(folder / "history.parquet")
        history.to_parquet(folder / "history.parquet")
        scratch.write_text(yaml.safe_dump(raw, sort_keys=False))
        env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_HOME", "PREFECT_API_URL")}
        done = subprocess.run([str(Path(sys.executable).with_name("accelops")), "run", "training", "--params",
                               str(scratch)], capture_output=True, text=True, timeout=timeout_s, env=env)
        found = sweep([folder / "work"], planted.values())
        console = [c for c in planted.values() if c in done.stdout + done.stderr]
        return {"planted": len(planted), "columns": sorted(planted), "rows_planted": rows_planted,
                "flow_exit_code": done.returncode, "files": found["files"], "megabytes": round(found["bytes"] / 2**20, 1),
                "leaks": found["leaks"], "console_hits": console,
                "hits": len(found["leaks"]) + len(console), "seconds": round(time.perf_counter() - started, 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
