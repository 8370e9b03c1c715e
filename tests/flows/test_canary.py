"""Planted canary PII never reaches any file the training flow writes, nor its logs; nor does the
pseudonymisation key (hash policy) leave its file."""

import logging
from pathlib import Path

import pandas as pd

from accelops.config import load_params
from helpers import write_params

CANARIES = ["Xanthia Canarywood", "canary-7f3e@leak.example", "+44 7700 555919"]


def _hits(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        text = "\n".join(df[c].astype(str).str.cat(sep="\n") for c in df.columns if df[c].dtype == object)
        return [c for c in CANARIES if c in text]
    data = path.read_bytes()
    return [c for c in CANARIES if c.encode() in data]


def test_canary_sweep_after_the_training_flow(tmp_path, caplog, capsys):
    from accelops.data.generator import generate
    from accelops_flows.training import training_flow

    path = write_params(tmp_path / "project", pii={"policy": "hash"})
    params = load_params(path)
    raw = generate(3000, 60, "2026-06-01", seed=5).frame
    raw.loc[:49, "full_name"], raw.loc[:49, "email"], raw.loc[:49, "phone"] = CANARIES
    params.layout.history.parent.mkdir(parents=True, exist_ok=True)
    raw.to_parquet(params.layout.history)

    with caplog.at_level(logging.DEBUG):
        training_flow(params_path=str(path), reason="canary sweep")
    import os

    roots = [params.layout.workdir, Path(os.environ["PREFECT_HOME"])]
    files = [f for root in roots for f in root.rglob("*") if f.is_file()]
    assert len(files) > 50                              # MLflow store + artifacts, Feast, reports, model, Prefect DB
    leaks = {str(f): hits for f in files if (hits := _hits(f))}
    assert leaks == {}
    key = params.layout.pii_key_file.read_text().strip().encode()     # with it, pseudonyms reverse by guessing
    assert len(key) >= 32
    assert [str(f) for f in files if f != params.layout.pii_key_file and key in f.read_bytes()] == []
    assert any(f.suffix == ".html" and "data_docs" in f.parts for f in files)      # Data Docs are swept too
    out = capsys.readouterr()
    with capsys.disabled():
        print(f"\ncanary sweep: {len(files)} files searched ({sum(f.stat().st_size for f in files) / 2**20:.1f} MB), "
              f"{len(leaks)} with a canary")
    for secret in (*CANARIES, key.decode()):
        assert secret not in caplog.text and secret not in out.out and secret not in out.err
