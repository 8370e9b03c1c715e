"""Planted canary PII never reaches any file the training flow writes, nor its logs; nor does the
pseudonymisation key (hash policy) leave its file."""

import logging
from pathlib import Path

from accelops.config import load_params
from accelops.pipeline.canaries import fresh_canaries, sweep
from helpers import write_params


def test_canary_sweep_after_the_training_flow(tmp_path, caplog, capsys):
    CANARIES = fresh_canaries()
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
    found = sweep(roots, CANARIES)
    assert found["files"] > 50                          # MLflow store + artifacts, Feast, reports, model, Prefect DB
    assert found["leaks"] == {}
    files = [f for root in roots for f in root.rglob("*") if f.is_file()]
    key = params.layout.pii_key_file.read_text().strip().encode()     # with it, pseudonyms reverse by guessing
    assert len(key) >= 32
    assert [str(f) for f in files if f != params.layout.pii_key_file and key in f.read_bytes()] == []
    assert any(f.suffix == ".html" and "data_docs" in f.parts for f in files)      # Data Docs are swept too
    out = capsys.readouterr()
    with capsys.disabled():
        print(f"\ncanary sweep: {found['files']} files searched ({found['bytes'] / 2**20:.1f} MB), "
              f"{len(found['leaks'])} with a canary")
    for secret in (*CANARIES, key.decode()):
        assert secret not in caplog.text and secret not in out.out and secret not in out.err
