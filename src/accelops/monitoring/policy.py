"""When monitoring starts a retraining: drift that persists (k of the last n windows) or a severe
drift at once, or performance decay measured from delayed labels; held by a cooldown after a
retraining, a daily budget, a training run already scheduled or running, and (for drift) until the
new windows have enough labels to learn from. A pure function over the recorded windows and the
facts passed in, so every decision can be replayed."""

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
    champion: str | None = None        # the version that scored it
    labelled: int | None = None        # labelled rows, at this check, of the drifted windows that champion scored


class PolicyDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retrain: bool
    reason: str
    drifted_windows: int               # drifted windows among the last ones considered (current included)
    windows: int
    batches: list[str] = []            # files of every window so far, oldest first (what a retraining adds)
    severe: bool
    decay: str | None = None           # why realised performance decayed (delayed labels), if it did
    labelled_new_rows: int | None = None   # labelled rows of drifted windows since the last retraining
    cooldown_until: datetime | None = None
    retrains_last_day: int = 0


def since_last_trigger(history: list[Window], current: Window) -> list[Window]:
    """The windows after the last one that started a retraining, oldest first, `current` last."""
    earlier = sorted((w for w in history if w.decided_at <= current.decided_at and w.key != current.key),
                     key=lambda w: w.decided_at)
    last = max((w.decided_at for w in earlier if w.triggered), default=None)
    return [w for w in earlier if last is None or w.decided_at > last] + [current]


def decide(history: list[Window], current: Window, now: datetime, training_active: bool,
           policy: RetrainPolicy, decay: str | None = None) -> PolicyDecision:
    """Whether `current` starts a retraining, given the earlier windows in `history` (any order) and
    `decay` (why realised performance decayed, from the delayed labels). Only windows after the last
    triggered one count towards persistence: a retraining answers the drift that came before it. Drift
    retrains only on new evidence: `current.labelled` (labelled rows of the drifted windows its
    champion scored) less the count recorded when the same champion last triggered."""
    earlier = [w for w in history if w.triggered and w.decided_at <= current.decided_at and w.key != current.key]
    triggers = [w.decided_at for w in earlier]
    last = max(triggers, default=None)
    last_window = max(earlier, key=lambda w: w.decided_at, default=None)
    labelled_new_rows = None
    if current.labelled is not None:
        same = last_window is not None and last_window.champion == current.champion and \
            last_window.labelled is not None
        labelled_new_rows = current.labelled - (last_window.labelled if same else 0)
    since = since_last_trigger(history, current)
    recent = since[-policy.n:]
    drifted = sum(w.drifted for w in recent)
    severe = current.drift_share >= policy.severe_share
    persistent = drifted >= policy.k
    per_day = sum(now - t < timedelta(days=1) for t in triggers)
    cooldown_until = last + timedelta(hours=policy.cooldown_hours) if last is not None else None
    every = sorted([w for w in history if w.key != current.key and w.decided_at <= current.decided_at],
                   key=lambda w: w.decided_at) + [current]
    facts = dict(drifted_windows=drifted, windows=len(recent), batches=[w.batch for w in every], severe=severe,
                 cooldown_until=cooldown_until, retrains_last_day=per_day, decay=decay,
                 labelled_new_rows=labelled_new_rows)
    seen = f"drift in {drifted} of the last {len(recent)} window(s) (needs {policy.k} of {policy.n})"
    if not (persistent or severe or decay):
        return PolicyDecision(retrain=False, reason=f"{seen}; share {current.drift_share:.2f} under the severe bound "
                                                    f"{policy.severe_share}; no performance decay", **facts)
    why = decay if decay else f"severe drift (share {current.drift_share:.2f} >= {policy.severe_share})" \
        if severe and not persistent else seen
    if not decay and labelled_new_rows is not None and labelled_new_rows < policy.min_new_labels:
        return PolicyDecision(retrain=False, reason=f"{why}, but only {labelled_new_rows} labelled row(s) of "
                                                    f"drifted windows came in since the last retraining (needs "
                                                    f"{policy.min_new_labels}): retraining waits for labels",
                              **facts)
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
