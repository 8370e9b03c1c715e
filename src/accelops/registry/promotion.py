"""Promotion: register the challenger, judge it (accelops.registry.rules) and move @champion only
when every rule passed. The decision record (status, every rule's value, bound and verdict) goes on
the new version as tags; the alias moves last, so a failure anywhere leaves the champion untouched."""

from __future__ import annotations

import contextlib
import io
import logging
import re
from datetime import datetime, timezone
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import GateParams
from accelops.evaluation.schema import EvaluationReport
from accelops.registry.history import CHALLENGER, CHAMPION, ChampionHistory, ChampionMoved
from accelops.registry.rules import (Comparison, RuleResult, absolute_rules, candidate_rules, champion_rules,
                                     fairness_gap, verdict)
from accelops.serving.schema import Recommendation

Status = Literal["PROMOTED", "REJECTED", "DRY_RUN", "PENDING_APPROVAL"]


class DecisionRecord(BaseModel):
    """The promotion gate's decision on one registered version: every rule it applied, and why."""
    model_config = ConfigDict(extra="forbid")
    status: Status
    model_name: str
    version: str
    reason: str
    challenger_auc: float
    champion_version: str | None
    comparison: Comparison | None           # None when there was no champion to compare with
    rules: list[RuleResult]
    decided_at: str

    @property
    def promoted(self) -> bool:
        return self.status == "PROMOTED"


class Registration(DecisionRecord):
    """reports/registration.json: the decision, the MLflow run and model it is about, and why it ran."""
    run_id: str
    model_uri: str
    trigger: str


class Candidate(BaseModel):
    """What the gate judges: the challenger's holdout (labels, its predictions, slice and sensitive
    columns), the other candidates' predictions on the same rows, and its evaluation and serving
    recommendation (None when the benchmark did not run)."""
    model_config = ConfigDict(arbitrary_types_allowed=True)
    y: np.ndarray
    p: np.ndarray
    kind: str = "network"
    others: dict[str, np.ndarray] = {}
    slices: pd.DataFrame
    sensitive: pd.DataFrame | None = None
    evaluation: EvaluationReport | None
    serving: Recommendation | None


def current_champion(client, name: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def judge(candidate: Candidate, champion_p: np.ndarray | None, gate: GateParams, serving_checked: bool,
          min_support: int, seed: int = 0) -> tuple[bool, str, Comparison | None, list[RuleResult]]:
    """(passed, reason, comparison with the champion, rules) for `candidate`; `champion_p` is the
    champion's scores on the same rows (None: no champion)."""
    rng = np.random.default_rng(seed)
    gap = None
    if gate.max_fairness_gap is not None and candidate.evaluation is not None and candidate.sensitive is not None:
        gap = fairness_gap(candidate.y, candidate.p, candidate.evaluation.threshold.threshold, candidate.sensitive,
                           min_support, gate.bootstrap, rng)
    rules = absolute_rules(candidate.evaluation, candidate.serving, serving_checked, gate, gap)
    rules += candidate_rules(candidate.y, candidate.p, candidate.kind, candidate.others, gate, seed)
    comparison = None
    if champion_p is not None:
        comparison, relative = champion_rules(candidate.y, candidate.p, champion_p, candidate.slices, gate,
                                              min_support, seed)
        rules += relative
    passed, reason = verdict(rules)
    if passed and champion_p is None:
        reason = f"no champion yet; {reason}"
    return passed, reason, comparison, rules


def register_and_gate(history: ChampionHistory, model_uri: str, run_id: str, candidate: Candidate,
                      score_champion: Callable[[str], np.ndarray], gate: GateParams, serving_checked: bool,
                      min_support: int, seed: int = 0, manual: bool = False) -> DecisionRecord:
    """Register `model_uri` as a new version (@challenger), judge it against @champion (re-scored on the
    candidate's rows by `score_champion(uri)`), then move @champion by compare-and-set and record the
    decision on the version. A champion that moved meanwhile turns a pass into a rejection; with
    `manual` approval a pass waits as PENDING_APPROVAL (see `decide_approval`)."""
    import mlflow

    from accelops.evaluation.metrics import fast_auc

    client, name = history.client, history.name
    champion = history.current()
    champion_p = score_champion(f"models:/{name}@{CHAMPION}") if champion else None
    with contextlib.redirect_stdout(io.StringIO()) as said, contextlib.redirect_stderr(said):
        version = str(mlflow.register_model(model_uri, name, tags={"run_id": run_id}).version)
    if said.getvalue().strip():                # MLflow prints "Created version ..." itself: to the tools log
        logging.getLogger("mlflow").info(said.getvalue().strip())
    try:
        client.set_registered_model_alias(name, CHALLENGER, version)
        passed, reason, comparison, rules = judge(candidate, champion_p, gate, serving_checked, min_support, seed)
        status: Status = ("DRY_RUN" if gate.dry_run else "PENDING_APPROVAL" if manual else "PROMOTED") \
            if passed else "REJECTED"
        if status == "PROMOTED":
            try:
                history.move(version, "promote", reason, expected_from=champion, decision_status=status)
            except ChampionMoved as exc:
                status, reason = "REJECTED", f"{exc} ({reason})"
    except BaseException:
        # no half-registered version: one the gate did not decide on goes (unless it became @champion)
        if history.current() != version:
            client.delete_model_version(name, version)
        raise
    record = DecisionRecord(status=status, model_name=name, version=version, reason=reason,
                            challenger_auc=fast_auc(candidate.y, candidate.p), champion_version=champion,
                            comparison=comparison, rules=rules, decided_at=datetime.now(timezone.utc).isoformat())
    for key, value in decision_tags(record).items():
        client.set_model_version_tag(name, version, key, value)
    return record


def decision_tags(record: DecisionRecord) -> dict[str, str]:
    """The decision as model-version tags: status, reason, the comparison, and one tag per rule
    (MLflow-safe names: slice.region=north becomes gate.rule.slice.region_north)."""
    tags = {"gate.status": record.status, "gate.decision": record.status.lower(),
            "gate.reason": record.reason[:5000], "gate.challenger_auc": f"{record.challenger_auc:.6f}",
            "gate.champion_version": str(record.champion_version)}
    if record.comparison is not None:
        c = record.comparison
        tags |= {"gate.champion_auc": f"{c.champion_auc:.6f}", "gate.auc_gain": f"{c.gain:+.6f}",
                 "gate.auc_gain_ci": f"[{c.low:+.6f}, {c.high:+.6f}]"}
    for r in record.rules:
        shown = "" if r.value is None else f" value={r.value:.6g}"
        tags[re.sub(r"[^A-Za-z0-9_\-. :/]", "_", f"gate.rule.{r.rule}")[:250]] = f"{r.verdict}{shown}" + ("" if r.bound is None else f" bound={r.bound:g}")
    return tags


def decide_approval(history: ChampionHistory, record: DecisionRecord, approve: bool, reason: str,
                    who: str | None = None) -> DecisionRecord:
    """A person's decision on a PENDING_APPROVAL version: approved moves @champion (compare-and-set
    against the champion the gate compared with), rejected or stale leaves it; recorded on the version."""
    from accelops.errors import RegistryError
    from accelops.registry.history import actor

    if record.status != "PENDING_APPROVAL":
        raise RegistryError(f"{record.model_name} v{record.version} is {record.status}, not pending approval")
    who = who or actor()
    status: Status = "REJECTED"
    why = f"rejected by {who}: {reason}"
    if approve:
        try:
            history.move(record.version, "promote", f"approved by {who}: {reason}",
                         expected_from=record.champion_version, decision_status="PROMOTED", who=who)
            status, why = "PROMOTED", f"approved by {who}: {reason}"
        except ChampionMoved as exc:
            why = f"approved by {who} but {exc}"
    decided = record.model_copy(update={"status": status, "reason": f"{record.reason}; {why}"})
    for key, value in {"gate.status": status, "gate.decision": status.lower(), "gate.approval": why[:5000]}.items():
        history.client.set_model_version_tag(record.model_name, record.version, key, value)
    return decided
