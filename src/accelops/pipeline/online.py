"""Online scoring, composed from the registry (@champion and its files), the feature store (online
features per entity id) and serving (the Scorer on the online variant the benchmark recommended).
The champion's files are fetched once per version."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from accelops.config import Params
from accelops.errors import EntityIdError, RegistryError

INT64 = (-(2 ** 63), 2 ** 63 - 1)


def entity_ids(ids, column: str, source: str = "ids") -> list[int]:
    """`ids` as a list of 64-bit integers, or an EntityIdError naming `source` (the argument), the
    entity id `column` and the rule: at least one id; each an integer (an int, an integral float or a
    string of digits; not a bool, a fraction, text or a null) in the 64-bit range; none twice (a repeated
    id would be scored twice, its window aggregates counting the snapshot once per copy). Checked
    before the champion or the online store is opened, so a rejected request writes nothing."""
    import numbers

    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        raise EntityIdError(f"{source}: {column}: expected a list of entity ids, got {type(ids).__name__} {ids!r}")
    out: list[int] = []
    bad: list[str] = []
    for value in ids:
        n = None
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            n = int(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and float(value).is_integer():
            n = int(value)
        elif isinstance(value, str):
            try:
                n = int(value.strip())
            except ValueError:
                n = None
        if n is None or not INT64[0] <= n <= INT64[1]:
            bad.append(repr(value))
            continue
        out.append(n)
    if bad:
        raise EntityIdError(f"{source}: {column}: {len(bad)} value(s) not a 64-bit integer id: {', '.join(bad[:5])}"
                            + (" ..." if len(bad) > 5 else ""))
    if not out:
        raise EntityIdError(f"{source}: {column}: no id given (name at least one entity id)")
    seen: set[int] = set()
    twice = sorted({i for i in out if i in seen or seen.add(i)})
    if twice:
        raise EntityIdError(f"{source}: {column}: id(s) given more than once: {twice[:5]} (each id once: one "
                            "score per entity)")
    return out


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


def online_inputs(params: Params, ids: list[int], now: pd.Timestamp | None = None):
    """(model inputs of the known ids as of `now`, the online lookup): the latest feature values from
    the online store, with the window aggregates computed at `now` (at_request_time)."""
    from accelops.features import store as fs

    ids = entity_ids(ids, params.model_contract.entity_id)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    found = fs.online_lookup(fs.open_store(params), params, ids, now)
    contract = params.model_contract
    known = found.frame[~found.frame[contract.entity_id].isin(found.unknown)]   # unknown ids are reported only
    if params.features.windows is not None and len(known):
        known = at_request_time(params, known, now)
    return known, found


def at_request_time(params: Params, latest: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """`latest` (each entity's latest feature values) with its window aggregates as the training
    definition computes them for that snapshot observed at `now`: over the entity's earlier events in
    (now - d, now) from the feature table, plus the snapshot itself (every training row counts
    itself). At the latest event's own time this is exactly that event's training row; later, older
    events age out of the windows as they would for a row written then. The online store keeps only
    each entity's latest values, so the events come from the feature table (columns and rows read
    by a filter)."""
    from accelops.features.windows import for_new_rows
    from accelops.pipeline.files import need

    c, w = params.dataset, params.features.windows
    cols = [c.entity_id, c.timestamp, *w.sources()]
    ids = [int(i) for i in latest[c.entity_id].unique()]
    earliest = now - pd.Timedelta(days=max(w.days))
    events = pd.read_parquet(need(params.layout.features_table, "features"), columns=cols,
                             filters=[(c.entity_id, "in", ids), (c.timestamp, ">", earliest.to_pydatetime())])
    # each entity's latest event is the snapshot being scored: it moves to `now`, never counts twice
    last = events.groupby(c.entity_id)[c.timestamp].transform("max")
    events = events[(events[c.timestamp] < last) & (events[c.timestamp] <= now)]
    rows = latest.reset_index(drop=True).assign(**{c.timestamp: now})
    return for_new_rows(events, rows, c.entity_id, c.timestamp, w)[list(latest.columns)]


def score_online(params: Params, ids: list[int]) -> dict:
    """@champion's probability for each known id (`entity_ids` checks them first: a bad list raises
    EntityIdError and opens nothing); ids the online store does not hold are listed in `unknown_ids`,
    never scored."""
    ids = entity_ids(ids, params.model_contract.entity_id)
    version, scorer = champion_scorer(params)
    known, found = online_inputs(params, ids)
    unknown = found.unknown
    contract = params.model_contract
    started = time.perf_counter()
    scores = scorer.predict_proba(known) if len(known) else []
    ms = (time.perf_counter() - started) * 1e3
    return {"model_version": version, "variant": scorer.variant.name, "why": scorer.why,
            "predictions": [{"id": int(i), "probability": float(s)} for i, s in zip(known[contract.entity_id], scores)],
            "unknown_ids": unknown, "stale_views": found.stale, "scoring_ms": round(ms, 3)}


class BatchScores(BaseModel):
    """What `score_batch` wrote: the file, its rows, the champion version and serving variant."""
    source: str
    out: str
    rows: int
    model_version: str
    variant: str
    mean_probability: float
    seconds: float


def score_batch(params: Params, data: Path, out: Path | None = None) -> BatchScores:
    """Score a CSV/Parquet file with @champion on its recommended batch variant: a Parquet of entity id,
    timestamp, probability, model version and variant (no other column, so no personal data), written
    atomically to `out` (default: <workdir>/scores/<file stem>.scores.parquet)."""
    from accelops.data import io
    from accelops.pipeline.batch_stages import model_inputs

    started = time.perf_counter()
    contract = params.dataset
    df = io.conform(io.read_table(data), contract, data, require_label=False)
    version, scorer = champion_scorer(params, mode="batch")
    scores = scorer.predict_proba(model_inputs(params, df))
    out = Path(out) if out else params.layout.workdir / "scores" / f"{Path(data).stem}.scores.parquet"
    frame = pd.DataFrame({contract.entity_id: df[contract.entity_id].to_numpy(),
                          contract.timestamp: df[contract.timestamp].to_numpy(), "probability": scores,
                          "model_version": version, "variant": scorer.variant.name})
    io.write_parquet(frame, out)
    return BatchScores(source=str(data), out=str(out), rows=len(frame), model_version=str(version),
                       variant=scorer.variant.name, mean_probability=float(scores.mean()) if len(frame) else 0.0,
                       seconds=time.perf_counter() - started)
