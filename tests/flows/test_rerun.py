"""A rerun of the training flow after a failure skips the stages whose inputs did not change (content-hash
keys, accelops.pipeline.stage_cache), and a completed run forgets them so the next run trains again."""

from __future__ import annotations

import pytest

from accelops.config import load_params
from helpers import write_params


@pytest.mark.heavy          # two training flows (~45 s): CI's heavy job
def test_a_rerun_after_a_failed_register_reuses_the_finished_stages(tmp_path, monkeypatch):
    from accelops.pipeline import stages
    from accelops_flows.training import training_flow

    path = write_params(tmp_path)
    params = load_params(path)
    stages.generate(params)
    lay = params.layout
    register = stages.register

    def unreachable(*args, **kwargs):
        raise RuntimeError("injected: register failed")

    monkeypatch.setattr(stages, "register", unreachable)
    failed = training_flow(params_path=str(path), reason="first try", return_state=True)
    assert failed.is_failed()
    recorded = sorted(p.stem for p in lay.stage_keys_dir.glob("*.json"))
    assert recorded == ["benchmark", "evaluate", "features", "train", "validate"]
    written = {p: p.stat().st_mtime_ns for p in (lay.training_summary, lay.evaluation_report, lay.training_set)}

    monkeypatch.setattr(stages, "register", register)
    state = training_flow(params_path=str(path), reason="rerun", return_state=True)
    out = state.result()
    assert state.is_completed() and out["register"].status == "PROMOTED"
    assert {p: p.stat().st_mtime_ns for p in written} == written                  # train, evaluate, features: reused
    assert list(lay.stage_keys_dir.glob("*.json")) == []                       # completed: the next run trains again
