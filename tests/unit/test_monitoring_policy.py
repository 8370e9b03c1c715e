"""The retraining policy (k of n windows, severe bound, cooldown, daily budget, active training) and
the intake ledger (each landed file exactly once, racing claimers, crashed owners, quarantine)."""

import multiprocessing
import os
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from accelops.config import RetrainPolicy
from accelops.monitoring.intake import Ledger
from accelops.monitoring.policy import Window, decide

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
POLICY = RetrainPolicy(k=2, n=3, severe_share=0.6, cooldown_hours=24, max_per_day=2)


def _w(day: float, share: float, drifted: bool, triggered: bool = False) -> Window:
    return Window(key=f"k{day}", batch=f"day{day}.parquet", decided_at=T0 + timedelta(days=day), drift_share=share,
                  drifted=drifted, triggered=triggered)


def _replay(flags: list[tuple[float, bool]], policy: RetrainPolicy = POLICY) -> list[bool]:
    """Feed daily windows through the policy as the monitoring flow does; returns each decision."""
    history, out = [], []
    for day, (share, drifted) in enumerate(flags):
        w = _w(day, share, drifted)
        d = decide(history, w, w.decided_at, False, policy)
        history.append(w.model_copy(update={"triggered": d.retrain}))
        out.append(d.retrain)
    return out


def test_a_one_window_blip_does_not_retrain_but_persistent_drift_does_exactly_once():
    blip = [(0.3, True)] + [(0.0, False)] * 5
    assert _replay(blip) == [False] * 6
    persistent = [(0.0, False)] * 3 + [(0.4, True)] * 6       # drift from day 3 on, every day
    # day 4: 2 of 3. After a retraining only new windows count (day 5 is 1 of 1); were the drift still
    # there (the retrained model rejected, say), day 6 is 2 of 2 and past the 24 h cooldown
    assert _replay(persistent) == [False, False, False, False, True, False, True, False, True]
    slow = POLICY.model_copy(update={"cooldown_hours": 72})
    assert _replay(persistent, slow) == [False, False, False, False, True, False, False, True, False]


def test_a_severe_window_retrains_at_once_and_reasons_say_why():
    history = [_w(0, 0.0, False)]
    current = _w(1, 0.8, True)
    d = decide(history, current, current.decided_at, False, POLICY)
    assert d.retrain and d.severe and "severe drift (share 0.80 >= 0.6)" in d.reason
    quiet = decide(history, _w(1, 0.1, False), current.decided_at, False, POLICY)
    assert not quiet.retrain and "drift in 0 of the last 2 window(s) (needs 2 of 3)" in quiet.reason


def test_cooldown_daily_budget_and_active_training_hold_a_trigger():
    current = _w(10, 0.9, True)
    recent = [_w(9.9, 0.9, True, triggered=True)]
    d = decide(recent, current, current.decided_at, False, POLICY)
    assert not d.retrain and "cooldown" in d.reason and d.cooldown_until == recent[0].decided_at + timedelta(hours=24)
    no_cooldown = POLICY.model_copy(update={"cooldown_hours": 0, "max_per_day": 2})
    two = [_w(9.5, 0.9, True, triggered=True), _w(9.9, 0.9, True, triggered=True)]
    d = decide(two, current, current.decided_at, False, no_cooldown)
    assert not d.retrain and d.retrains_last_day == 2 and "budget 2 a day" in d.reason
    d = decide([], current, current.decided_at, True, POLICY)
    assert not d.retrain and "already scheduled or running" in d.reason
    assert decide([], current, current.decided_at, False, POLICY).retrain


def test_reprocessing_a_file_replaces_its_window_not_adds_one():
    first = _w(0, 0.4, True)
    again = first.model_copy(update={"decided_at": first.decided_at + timedelta(hours=1)})
    d = decide([first], again, again.decided_at, False, POLICY)
    assert d.windows == 1 and not d.retrain                  # the same file twice is one window, not 2 of 3


def test_policy_params_reject_k_above_n():
    with pytest.raises(ValueError, match="k \\(4\\) cannot exceed n \\(3\\)"):
        RetrainPolicy(k=4, n=3)


def _land(folder, name: str, rows: int = 3, old: bool = True):
    path = folder / name
    pd.DataFrame({"x": range(rows), "name": [name] * rows}).to_parquet(path)
    if old:
        os.utime(path, (1e9, 1e9))
    return path


def test_each_landed_file_is_registered_once_by_content(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    ledger = Ledger.for_path(tmp_path / "ledger.db")
    a = _land(landing, "a.parquet")
    (landing / "a-copy.parquet").write_bytes(a.read_bytes())          # the same content under another name
    os.utime(landing / "a-copy.parquet", (1e9, 1e9))
    _land(landing, "fresh.parquet", old=False)                         # still being written: left for later
    (landing / "notes.txt").write_text("not data")
    added = ledger.register(str(landing), settle_seconds=60)
    assert [os.path.basename(f.path) for f in added] in (["a.parquet"], ["a-copy.parquet"])
    assert ledger.register(str(landing), settle_seconds=60) == []
    assert len(ledger.register(str(landing), settle_seconds=0)) == 1  # fresh.parquet once it settled


def _claim_all(url: str, owner: str, queue) -> None:
    ledger = Ledger(url)
    got = []
    while (f := ledger.claim_next(owner, timedelta(hours=1), 2)) is not None:
        got.append(f.sha256)
        ledger.finish(f.sha256, owner, "done", "ok")
    queue.put(got)


def test_racing_claimers_never_take_the_same_file(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for i in range(30):
        _land(landing, f"f{i:02}.parquet", rows=i + 1)
    ledger = Ledger.for_path(tmp_path / "ledger.db")
    ledger.register(str(landing), 0)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(ledger.url, f"host:{i}:x", queue)) for i in range(3)]
    for p in procs:
        p.start()
    taken = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    flat = [sha for got in taken for sha in got]
    assert len(flat) == len(set(flat)) == 30                     # every file once, none twice
    assert all(f.state == "done" and f.attempts == 1 for f in ledger.all())


def test_a_crashed_claim_is_taken_over_once_then_quarantined(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    _land(landing, "a.parquet")
    ledger = Ledger.for_path(tmp_path / "ledger.db")
    ledger.register(str(landing), 0)
    lease = timedelta(hours=1)
    dead = f"{os.uname().nodename}:999999999:dead"                 # a process of this host that is gone
    first = ledger.claim_next(dead, lease, max_attempts=2)
    assert first is not None and first.attempts == 1
    assert ledger.claim_next("other-host:1:x", lease, 2) is not None     # dead owner: taken over (attempt 2)
    # the second owner "crashes" too (its lease runs out): no third attempt, the file is quarantined
    assert ledger.claim_next("other-host:2:y", timedelta(0), 2) is None
    (state,) = ledger.all()
    assert state.state == "quarantined" and "claimed 2 times" in state.outcome
    # a live owner on another host keeps its claim within the lease
    _land(landing, "b.parquet", rows=5)
    ledger.register(str(landing), 0)
    assert ledger.claim_next("far-host:1:z", lease, 2) is not None
    assert ledger.claim_next("other-host:3:w", lease, 2) is None


def test_drift_waits_for_new_labels_of_drifted_windows_and_decay_retrains_on_its_own():
    history = [_w(0, 0.4, True), _w(1, 0.4, True)]
    current = _w(2, 0.4, True).model_copy(update={"champion": "1", "labelled": 120})
    waiting = decide(history, current, current.decided_at, False, POLICY)
    assert not waiting.retrain and "only 120 labelled row(s) of drifted windows" in waiting.reason \
        and waiting.batches == ["day0.parquet", "day1.parquet", "day2.parquet"]
    labelled = current.model_copy(update={"labelled": POLICY.min_new_labels})
    assert decide(history, labelled, current.decided_at, False, POLICY).retrain
    # after a retraining by the same champion only labels that came in since count: 900 then, 1100 now
    triggered = _w(3, 0.4, True, triggered=True).model_copy(update={"champion": "1", "labelled": 900})
    later = [*history, triggered, _w(4, 0.4, True)]
    again = _w(5, 0.4, True).model_copy(update={"champion": "1", "labelled": 1100})
    held = decide(later, again, again.decided_at, False, POLICY)
    assert not held.retrain and held.labelled_new_rows == 200
    # a new champion starts its own count
    promoted = again.model_copy(update={"champion": "2", "labelled": 600})
    assert decide(later, promoted, promoted.decided_at, False, POLICY).labelled_new_rows == 600
    # every window so far is retraining data, not only the last n
    longer = [_w(d, 0.4, True) for d in range(6)]
    assert len(decide(longer, _w(6, 0.4, True), T0 + timedelta(days=6), False, POLICY).batches) == 7
    # decay from delayed labels retrains without drift (labels are what it measured) ...
    quiet = _w(2, 0.0, False).model_copy(update={"champion": "1", "labelled": 0})
    why = "performance decay: realised AUC 0.7 ..."
    decayed = decide([_w(0, 0.0, False)], quiet, quiet.decided_at, False, POLICY, decay=why)
    assert decayed.retrain and decayed.reason == why and decayed.decay == why
    # ... but not during the cooldown nor beside a running training
    after = [_w(0, 0.0, False, triggered=True)]
    held = decide(after, _w(0.5, 0.0, False), T0 + timedelta(days=0.5), False, POLICY, decay=why)
    assert not held.retrain and "cooldown" in held.reason
    assert not decide([], quiet, quiet.decided_at, True, POLICY, decay=why).retrain


def test_an_older_ledger_gains_the_new_window_columns(tmp_path):
    import sqlalchemy as sa

    path = tmp_path / "ledger.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:          # the windows table as session 5 created it
        conn.exec_driver_sql("CREATE TABLE accelops_drift_windows (key VARCHAR(64) PRIMARY KEY, batch TEXT NOT NULL, "
                             "decided_at DATETIME NOT NULL, drift_share FLOAT NOT NULL, drifted BOOLEAN NOT NULL, "
                             "triggered BOOLEAN NOT NULL)")
        conn.exec_driver_sql("INSERT INTO accelops_drift_windows VALUES ('k', 'a.parquet', '2026-11-01 00:00:00', "
                             "0.1, 0, 0)")
    ledger = Ledger.for_path(path)
    (old,) = ledger.windows()
    assert old.champion is None and old.labelled is None
    ledger.record_window(_w(1, 0.2, True).model_copy(update={"champion": "3", "labelled": 42}))
    assert [(w.champion, w.labelled) for w in ledger.windows()] == [(None, None), ("3", 42)]
