"""Online scoring, composed from the registry (@champion and its files), the feature store (online
features per entity id) and serving (the Scorer on the online variant the benchmark recommended).
The champion's files are fetched once per version."""

from __future__ import annotations

import time

from accelops.config import Params
from accelops.errors import RegistryError


def champion_scorer(params: Params, mode: str = "online"):
    """(version, Scorer) of the current @champion, its files cached under workdir/serving_cache."""
    from accelops.registry import tracking
    from accelops.registry.fetch import fetch_model
    from accelops.registry.promotion import CHAMPION, current_champion
    from accelops.serving.scorer import Scorer

    name = params.register_.model_name
    champion = current_champion(tracking.connect(params), name)
    if champion is None:
        raise RegistryError(f"model {name!r} has no @{CHAMPION} yet: run the training flow first")
    dest = params.layout.serving_cache(name, champion.version)
    model_dir, serving_dir = fetch_model(params, f"models:/{name}/{champion.version}", dest)
    return champion.version, Scorer(model_dir, serving_dir, mode=mode)


def score_online(params: Params, ids: list[int]) -> dict:
    from accelops.features import store as fs

    version, scorer = champion_scorer(params)
    found = fs.online_lookup(fs.open_store(params), params, ids)
    frame, unknown = found.frame, found.unknown
    contract = params.model_contract
    known = frame[~frame[contract.entity_id].isin(unknown)]        # unknown ids are reported, never scored
    started = time.perf_counter()
    scores = scorer.predict_proba(known) if len(known) else []
    ms = (time.perf_counter() - started) * 1e3
    return {"model_version": version, "variant": scorer.variant.name, "why": scorer.why,
            "predictions": [{"id": int(i), "churn_probability": float(s)} for i, s in zip(known[contract.entity_id], scores)],
            "unknown_ids": unknown, "stale_views": found.stale, "scoring_ms": round(ms, 3)}
