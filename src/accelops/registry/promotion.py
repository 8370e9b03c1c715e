"""Promotion gate: register the challenger; make it @champion when it meets the serving objective
(some variant within the accuracy tolerance has p99 at batch 1 under the bound, from the
benchmark), and there is no champion or its test AUC is at least the champion's (+ min_auc_gain),
both scored on the same current test split.
The decision and its reason are recorded as tags on the new version. The champion alias only
moves after every check has passed, so a failure leaves the current champion untouched."""

from __future__ import annotations

from typing import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict

from accelops.serving.schema import Recommendation

CHAMPION = "champion"


class GateDecision(BaseModel):
    """The promotion gate's decision on one registered version, with the figures it compared."""
    model_config = ConfigDict(extra="forbid")
    model_name: str
    version: str
    promoted: bool
    reason: str
    challenger_auc: float
    champion_version: str | None
    champion_auc: float | None


class Registration(GateDecision):
    """reports/registration.json: the decision, the MLflow run and model it is about, and why it ran."""
    run_id: str
    model_uri: str
    trigger: str


def current_champion(client, name: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def decide(challenger_auc: float, champion_auc: float | None, min_gain: float) -> tuple[bool, str]:
    if champion_auc is None:
        return True, "no champion yet"
    if not np.isfinite(challenger_auc):
        return False, "challenger AUC undefined on the test split"
    if challenger_auc >= champion_auc + min_gain:
        return True, f"challenger AUC {challenger_auc:.4f} >= champion AUC {champion_auc:.4f} + {min_gain}"
    return False, f"challenger AUC {challenger_auc:.4f} < champion AUC {champion_auc:.4f} + {min_gain}"


def register_and_gate(client, name: str, model_uri: str, run_id: str, challenger_auc: float,
                      score_champion: Callable[[str], float], min_gain: float,
                      serving: Recommendation | None = None) -> GateDecision:
    """`score_champion(model_uri)` returns the champion's AUC on the challenger's test split;
    `serving` is the benchmark's recommendation (None: no serving objective checked)."""
    import mlflow

    champion = current_champion(client, name)
    champion_auc = score_champion(f"models:/{name}@{CHAMPION}") if champion else None
    version = mlflow.register_model(model_uri, name, tags={"run_id": run_id}).version
    promoted, reason = decide(challenger_auc, champion_auc, min_gain)
    if serving is not None and not serving.meets_online_objective:
        promoted, reason = False, f"misses the serving objective: {serving.online_reason}"
    decision = GateDecision(model_name=name, version=str(version), promoted=promoted, reason=reason,
                            challenger_auc=challenger_auc, champion_version=str(champion.version) if champion else None,
                            champion_auc=champion_auc)
    tags = {"gate.decision": "promoted" if promoted else "rejected", "gate.reason": reason,
            "gate.challenger_auc": f"{challenger_auc:.6f}",
            "gate.champion_version": str(decision.champion_version),
            "gate.champion_auc": "none" if champion_auc is None else f"{champion_auc:.6f}"}
    for key, value in tags.items():
        client.set_model_version_tag(name, str(version), key, value)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, str(version))
    return decision
