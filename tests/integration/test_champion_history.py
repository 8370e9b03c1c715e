"""@champion's history in the tracking backend: every move recorded (who, when, from, to, why),
"which version was champion at time T", rollback and roll-forward, audited overrides, and two
concurrent promotions leaving exactly one champion."""

import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

import pytest

from accelops.errors import RegistryError
from accelops.pipeline import stages


def _history(params):
    from accelops.registry import history

    return history.for_params(params)


def test_rollback_then_roll_forward_returns_the_same_state_and_history_answers_at(trained_copy):
    from accelops.registry import history as h

    params = trained_copy.params
    hist = _history(params)
    first = hist.events()
    assert [(e.action, e.from_version, e.to_version, e.decision_status) for e in first] == [
        ("promote", None, "1", "PROMOTED")]
    t1 = datetime.now(timezone.utc)
    time.sleep(0.01)
    ties = params.replace(register={"gate": {**params.register_.gate.model_dump(), "promote_ties": True}})
    second = stages.register(ties, reason="test: a tie, promoted by params")
    assert second.status == "PROMOTED" and hist.current() == "2"
    before_rollback = (hist.current(), hist.client.get_model_version_by_alias(hist.name, "challenger").version)

    back = h.rollback(hist, "test: v2 misbehaves in production")
    assert (back.action, back.from_version, back.to_version) == ("rollback", "2", "1") and hist.current() == "1"
    assert hist.at(t1).to_version == "1" and hist.at(datetime.now(timezone.utc)).to_version == "1"
    assert hist.at(datetime(2000, 1, 1, tzinfo=timezone.utc)) is None

    forward = h.promote(hist, "2", "test: fixed upstream, v2 back")
    assert forward.to_version == "2" and hist.current() == before_rollback[0]
    assert (hist.current(), hist.client.get_model_version_by_alias(hist.name, "challenger").version) == before_rollback
    assert [e.action for e in hist.events()] == ["promote", "promote", "rollback", "override"]

    rejected = stages.register(params, reason="test: a tie, kept")      # same model again: a tie keeps v2
    assert rejected.status == "REJECTED" and hist.current() == "2"
    with pytest.raises(RegistryError, match="never passed the promotion gate"):
        h.promote(hist, rejected.version, "test: no")
    with pytest.raises(RegistryError, match="give a --reason"):
        h.rollback(hist, "  ")
    forced = h.promote(hist, rejected.version, "test: operator knows better", force=True)
    assert forced.reason.startswith("[forced]") and hist.current() == rejected.version

    out = subprocess.run([sys.executable, "-m", "accelops_flows.cli", "history", "--params", str(trained_copy.path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") == 5 and "rollback v2 -> v1" in out.stdout and "[forced]" in out.stdout


def _move(params_path: str, to: str, expected: str) -> str:
    from accelops.config import load_params
    from accelops.registry.history import ChampionMoved

    try:
        _history(load_params(params_path)).move(to, "override", f"race to v{to}", expected_from=expected)
        return "moved"
    except ChampionMoved:
        return "refused"


def test_two_concurrent_promotions_leave_exactly_one_champion(trained_copy):
    params = trained_copy.params
    hist = _history(params)
    for _ in range(2):                                              # two more versions to race to
        stages.register(params.replace(register={"gate": {**params.register_.gate.model_dump(),
                                                          "dry_run": True}}), reason="test: candidate")
    with ProcessPoolExecutor(2) as pool:
        outcomes = list(pool.map(_move, [str(trained_copy.path)] * 2, ["2", "3"], ["1", "1"]))
    assert sorted(outcomes) == ["moved", "refused"]
    events = hist.events()
    assert len(events) == 2 and events[-1].from_version == "1" and events[-1].to_version == hist.current()
