"""Who made which version @champion, when, from which, and why: an append-only history kept in the
tracking backend (one MLflow run per event in the experiment `<register.experiment>-champion-history`),
so it survives the loss of local reports and answers "which version was champion at time T".

Every move of the alias goes through `ChampionHistory.move`: compare-and-set under a lock (the
alias must still point where the caller last saw it), then the alias, then the event. Two flows
finishing together therefore leave exactly one champion and a consistent history; the loser gets a
`ChampionMoved` error and records its decision as rejected. The lock is a file lock beside the
local store (one machine), or, when the server profile's PostgreSQL is configured (monitor.ledger_url),
a PostgreSQL advisory lock on the model's name, which spans every host that shares the tracking server.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from accelops.errors import RegistryError

CHAMPION = "champion"
CHALLENGER = "challenger"
ACTOR_ENV = "ACCELOPS_ACTOR"
Action = Literal["promote", "rollback", "override"]


class ChampionMoved(RegistryError):
    """@champion changed between reading it and moving it (another flow promoted in between)."""


class ChampionEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: str                               # ISO time, UTC
    model_name: str
    action: Action
    from_version: str | None
    to_version: str
    who: str
    reason: str
    decision_status: str | None = None    # the gate's status of the version moved to, when known


def actor() -> str:
    """Who acts: ACCELOPS_ACTOR (set by flows and services), else the OS user."""
    return os.environ.get(ACTOR_ENV) or getpass.getuser()


class ChampionHistory:
    def __init__(self, client, model_name: str, experiment: str, artifact_root: Path, lock_file: Path,
                 lock_url: str | None = None):
        self.client, self.name = client, model_name
        self.experiment, self.artifact_root, self.lock_file = f"{experiment}-champion-history", artifact_root, lock_file
        self.lock_url = lock_url if lock_url and lock_url.startswith("postgresql") else None

    def _lock(self):
        """The compare-and-set's lock: across hosts through PostgreSQL, else this machine's file lock."""
        if self.lock_url:
            from accelops.registry.locks import advisory_lock

            return advisory_lock(self.lock_url, f"accelops.champion:{self.name}", timeout_s=120)
        from filelock import FileLock

        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.lock_file), timeout=120)

    def current(self) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.name, CHAMPION).version)
        except MlflowException:
            return None

    def move(self, to_version: str, action: Action, reason: str, expected_from: str | None,
             decision_status: str | None = None, who: str | None = None) -> ChampionEvent:
        """Point @champion at `to_version` if it still points at `expected_from`, and record the event."""
        with self._lock():
            found = self.current()
            if found != expected_from:
                raise ChampionMoved(f"{self.name}: @champion is v{found}, not v{expected_from} as when the decision "
                                    "was made; judge again against the new champion")
            event = ChampionEvent(at=datetime.now(timezone.utc).isoformat(), model_name=self.name, action=action,
                                  from_version=found, to_version=str(to_version), who=who or actor(), reason=reason,
                                  decision_status=decision_status)
            self.client.set_registered_model_alias(self.name, CHAMPION, str(to_version))
            self._append(event)
        return event

    def _append(self, event: ChampionEvent) -> None:
        exp = self.client.get_experiment_by_name(self.experiment)
        exp_id = exp.experiment_id if exp else self.client.create_experiment(
            self.experiment, artifact_location=self.artifact_root.resolve().as_uri(),
            tags={"accelops.history_of": self.name})
        tags = {f"event.{k}": "" if v is None else str(v)[:5000] for k, v in event.model_dump().items()}
        run = self.client.create_run(exp_id, tags=tags, run_name=f"{event.action} v{event.from_version} -> "
                                                                   f"v{event.to_version}")
        self.client.set_terminated(run.info.run_id)

    def events(self) -> list[ChampionEvent]:
        """Every move of @champion for this model, oldest first."""
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is None:
            return []
        runs = self.client.search_runs([exp.experiment_id], filter_string=f"tags.`event.model_name` = '{self.name}'",
                                       max_results=50000)
        out = []
        for run in runs:
            t = {k.removeprefix("event."): v for k, v in run.data.tags.items() if k.startswith("event.")}
            out.append(ChampionEvent(**{k: (t.get(k) or None) for k in ChampionEvent.model_fields} |
                                     {"to_version": t["to_version"], "reason": t.get("reason", ""),
                                      "who": t.get("who", ""), "at": t["at"], "action": t["action"],
                                      "model_name": t["model_name"]}))
        return sorted(out, key=lambda e: e.at)

    def at(self, when: datetime) -> ChampionEvent | None:
        """The event that made the champion of time `when` (None: there was none yet)."""
        stamp = when.astimezone(timezone.utc).isoformat()
        before = [e for e in self.events() if e.at <= stamp]
        return before[-1] if before else None


def for_params(params, client=None) -> ChampionHistory:
    from accelops.registry import tracking

    client = client or tracking.connect(params)
    lay = params.layout
    return ChampionHistory(client, params.register_.model_name, params.register_.experiment, lay.mlflow_artifacts,
                           lay.champion_lock, lock_url=params.monitor.ledger_url)


def _passed(history: ChampionHistory, version: str) -> bool:
    """The version passed the gate once (its decision tag), or was champion before."""
    from mlflow.exceptions import MlflowException

    try:
        tags = history.client.get_model_version(history.name, version).tags
    except MlflowException:
        raise RegistryError(f"{history.name}: no version {version}") from None
    return tags.get("gate.status") == "PROMOTED" or any(e.to_version == version for e in history.events())


def rollback(history: ChampionHistory, reason: str, to: str | None = None, force: bool = False) -> ChampionEvent:
    """Move @champion back to `to`, or to the version it replaced; a version that never passed the gate
    is refused unless `force`."""
    current = history.current()
    if current is None:
        raise RegistryError(f"{history.name} has no @champion to roll back")
    if to is None:
        made = [e for e in history.events() if e.to_version == current]
        if not made or made[-1].from_version is None:
            raise RegistryError(f"{history.name}: v{current} replaced no earlier champion; name one with --to")
        to = made[-1].from_version
    return _move(history, str(to), "rollback", reason, current, force)


def promote(history: ChampionHistory, version: str, reason: str, force: bool = False) -> ChampionEvent:
    """An audited override: make `version` champion (refused for one that never passed unless `force`)."""
    return _move(history, str(version), "override", reason, history.current(), force)


def _move(history: ChampionHistory, to: str, action: Action, reason: str, current: str | None,
          force: bool) -> ChampionEvent:
    if not reason.strip():
        raise RegistryError("give a --reason: every move of @champion is recorded with why")
    if to == current:
        raise RegistryError(f"{history.name}: v{to} is already @champion")
    passed = _passed(history, to)
    if not passed and not force:
        raise RegistryError(f"{history.name}: v{to} never passed the promotion gate; add --force to override")
    status = history.client.get_model_version(history.name, to).tags.get("gate.status")
    return history.move(to, action, reason if passed else f"[forced] {reason}", expected_from=current,
                        decision_status=status)
