"""Point-in-time training sets computed with pandas merge_asof from Feast's registered definitions.

Feast stays the single source of truth (feature service -> views -> source file, timestamp field,
entity join keys, TTL); only the join runs here, because Feast 0.67's file offline store was
measured at ~30x the time of merge_asof and 5.6 GB at 1M rows, and it silently drops entity rows
with no feature row in the TTL window and merges duplicate entity rows. This join returns every
entity row, in input order, with missing features as nulls, and counts them per view.

Semantics (tested against a brute-force oracle): for an entity row (key, t), a view contributes the
feature row with the same key and the latest timestamp ts <= t, provided t - ts <= TTL (inclusive);
among feature rows tied on (key, ts) the one later in the source file wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ROW = "__accelops_row__"


@dataclass(frozen=True)
class ViewSpec:
    name: str
    path: str
    timestamp: str
    join_keys: tuple[str, ...]
    features: tuple[str, ...]
    ttl: pd.Timedelta | None


def view_specs(store, service_name: str) -> list[ViewSpec]:
    """Read the feature service's views from the Feast registry."""
    service = store.get_feature_service(service_name)
    specs = []
    for projection in service.feature_view_projections:
        view = store.get_feature_view(projection.name)
        ttl = pd.Timedelta(view.ttl) if view.ttl and view.ttl.total_seconds() > 0 else None
        specs.append(ViewSpec(projection.name, view.batch_source.path, view.batch_source.timestamp_field,
                              tuple(c.name for c in view.entity_columns), tuple(f.name for f in projection.features),
                              ttl))
    return specs


def join_view(entities: pd.DataFrame, table: pd.DataFrame, spec: ViewSpec, entity_ts: str) -> pd.DataFrame:
    """As-of join of one view onto `entities` (which carries ROW); returns ROW + features, all rows."""
    if len(spec.join_keys) != 1:
        raise NotImplementedError("composite join keys are not supported yet")
    key = spec.join_keys[0]
    left = entities[[ROW, key, entity_ts]].rename(columns={entity_ts: "__t"})
    right = table[[key, spec.timestamp, *spec.features]].rename(columns={spec.timestamp: "__ts"})
    right = right.assign(__order=np.arange(len(right)))
    # the latest file row wins among ties: stable sort by (ts, file order), keep last per (key, ts)
    right = right.sort_values(["__ts", "__order"], kind="stable").drop_duplicates([key, "__ts"], keep="last")
    left = left.sort_values("__t", kind="stable")
    if left[key].dtype != right[key].dtype:
        right[key] = right[key].astype(left[key].dtype)
    merged = pd.merge_asof(left, right.drop(columns="__order"), left_on="__t", right_on="__ts", by=key,
                           direction="backward", allow_exact_matches=True)
    if spec.ttl is not None:
        stale = (merged["__t"] - merged["__ts"]) > spec.ttl
        merged.loc[stale, list(spec.features)] = np.nan
        merged.loc[stale, "__ts"] = pd.NaT
    merged["__found"] = merged["__ts"].notna()
    return merged[[ROW, "__found", *spec.features]]


def historical_features(store, service_name: str, entities: pd.DataFrame, entity_ts: str,
                        tables: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """(entity rows + features in input order, {view: rows with no feature row in its window})."""
    out = entities.reset_index(drop=True).copy()
    out[ROW] = np.arange(len(out))
    missing: dict[str, int] = {}
    for spec in view_specs(store, service_name):
        table = (tables or {}).get(spec.name)
        if table is None:
            table = pd.read_parquet(spec.path, columns=[*spec.join_keys, spec.timestamp, *spec.features])
        joined = join_view(out, table, spec, entity_ts).sort_values(ROW)
        missing[spec.name] = int((~joined["__found"]).sum())
        for f in spec.features:
            out[f] = joined[f].to_numpy()
    return out.drop(columns=ROW), missing
