"""When drift starts a retraining: persistence (k of the last n windows), a severe bound that acts
at once, a cooldown after a retraining, a daily budget, and never while a training run is scheduled
or running. A pure function over the recorded windows, so every decision can be replayed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from accelops.config import RetrainPolicy


class Window(BaseModel):
    """One drift check: when, on which file (and its content hash, the key), its drift share and
    whether that window drifted."""
    model_config = ConfigDict(extra="forbid")
    key: str
    batch: str
    decided_at: datetime
    drift_share: float
    drifted: bool
    triggered: bool = False            # this check started a retraining


class PolicyDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retrain: bool
    reason: str
    drifted_windows: int               # drifted windows among the last ones considered (current included)
    windows: int
    batches: list[str] = []            # the files of those windows (what a retraining adds to its data)
    severe: bool
    cooldown_until: datetime | None = None
    retrains_last_day: int = 0


def decide(history: list[Window], current: Window, now: datetime, training_active: bool,
           policy: RetrainPolicy) -> PolicyDecision:
    """Whether `current` starts a retraining, given the earlier windows in `history` (any order).
    Only windows after the last triggered one count towards persistence: a retraining answers the
    drift that came before it."""
    earlier = sorted((w for w in history if w.decided_at <= current.decided_at and w.key != current.key),
                     key=lambda w: w.decided_at)
    triggers = [w.decided_at for w in earlier if w.triggered]
    last = max(triggers, default=None)
    recent = [w for w in earlier if last is None or w.decided_at > last][-(policy.n - 1):] + [current] \
        if policy.n > 1 else [current]
    drifted = sum(w.drifted for w in recent)
    severe = current.drift_share >= policy.severe_share
    persistent = drifted >= policy.k
    per_day = sum(now - t < timedelta(days=1) for t in triggers)
    cooldown_until = last + timedelta(hours=policy.cooldown_hours) if last is not None else None
    facts = dict(drifted_windows=drifted, windows=len(recent), batches=[w.batch for w in recent], severe=severe, cooldown_until=cooldown_until,
                 retrains_last_day=per_day)
    seen = f"drift in {drifted} of the last {len(recent)} window(s) (needs {policy.k} of {policy.n})"
    if not (persistent or severe):
        return PolicyDecision(retrain=False, reason=f"{seen}; share {current.drift_share:.2f} under the severe bound "
                                                    f"{policy.severe_share}", **facts)
    why = f"severe drift (share {current.drift_share:.2f} >= {policy.severe_share})" if severe and not persistent \
        else seen
    if training_active:
        return PolicyDecision(retrain=False, reason=f"{why}, but a training run is already scheduled or running",
                              **facts)
    if cooldown_until is not None and now < cooldown_until:
        return PolicyDecision(retrain=False, reason=f"{why}, but in the cooldown after the retraining of "
                                                    f"{last:%Y-%m-%d %H:%M} (until {cooldown_until:%Y-%m-%d %H:%M})",
                              **facts)
    if per_day >= policy.max_per_day:
        return PolicyDecision(retrain=False, reason=f"{why}, but {per_day} retraining(s) in the last 24 h "
                                                    f"(budget {policy.max_per_day} a day)", **facts)
    return PolicyDecision(retrain=True, reason=why, **facts)
