"""The Feast store, configured from params, with definitions from feature_repo/.

The registry and the online store live under the workdir; the offline source is the feature
table. Training sets come back with every entity row, in input order; rows with no feature row in
a view's TTL are counted per view, and a view over its allowed share raises FeatureStoreError.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from accelops.config import Params
from accelops.features.schema import MaterializeSummary
from accelops.errors import FeatureStoreError
from accelops.fanout import Fanout

ROW_ID = "__accelops_row__"
REDIS_PASSWORD_ENV = "ACCELOPS_REDIS_PASSWORD"


def _load_definitions_module(repo: Path | None):
    if repo is None:
        from accelops.features import definitions

        return definitions
    path = repo / "definitions.py"
    if not path.is_file():
        raise FeatureStoreError(f"{path}: Feast definitions not found")
    spec = importlib.util.spec_from_file_location("accelops_feature_repo_definitions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def open_store(params: Params):
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    feast_dir = params.layout.feast_dir
    feast_dir.mkdir(parents=True, exist_ok=True)
    raw = store_config(params)
    online = dict(raw["online_store"])
    if "path" in online:
        online["path"] = str(feast_dir / online["path"])
    if online["type"] == "redis" and (password := os.environ.get(REDIS_PASSWORD_ENV)):
        online["connection_string"] += f",password={password}"          # in memory only, never in the yaml
    registry = raw["registry"] if isinstance(raw["registry"], dict) else str(feast_dir / raw["registry"])
    config = RepoConfig(**{**raw, "registry": registry, "online_store": online})
    _write_yaml(raw, feast_dir / "feature_store.yaml")
    return FeatureStore(config=config, repo_path=str(feast_dir))


def _unreachable(exc: BaseException) -> bool:
    """The online store's server or file is down, locked or gone (not a bug of ours or Feast's)."""
    import sqlite3

    kinds: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, sqlite3.OperationalError)
    if importlib.util.find_spec("redis") is not None:
        import redis

        kinds += (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    return isinstance(exc, kinds)


def _describe_online(params: Params) -> str:
    kind = params.features.online_store
    return f"redis at {params.features.redis}" if kind == "redis" else \
        f"{kind} (SQLite in {params.layout.feast_dir})"


def _describe_registry(params: Params) -> str:
    return f"SQL registry at {params.features.registry}" if params.features.registry else \
        f"file {params.layout.feast_dir / 'registry.db'}"


def store_config(params: Params) -> dict:
    """The store's configuration with paths relative to the Feast directory (workdir/feast): the same
    dict is written there as feature_store.yaml, so the Feast CLI works on this store
    (`feast -c .accelops/feast feature-views list`); no absolute paths, no secrets."""
    online = {"type": "sqlite", "path": "online_store.db"}
    if params.features.online_store == "rows":
        online = {"type": "accelops.features.row_store.RowSqliteOnlineStore", "path": "online_rows.db"}
    elif params.features.online_store == "redis":
        online = {"type": "redis", "connection_string": params.features.redis +
                  (f",db={params.features.redis_db}" if params.features.redis_db else "")}
    registry: str | dict = "registry.db"
    if params.features.registry:           # Feast's SQL registry (PostgreSQL in the server profile)
        registry = {"registry_type": "sql", "path": params.features.registry, "cache_ttl_seconds": 60,
                    "sqlalchemy_config_kwargs": {"pool_pre_ping": True}}
    return {"project": params.features.project, "registry": registry, "provider": "local",
            "offline_store": {"type": "file"}, "online_store": online, "entity_key_serialization_version": 3}


def _write_yaml(raw: dict, path: Path) -> None:
    import yaml

    text = "# written by accelops.features.store from params.yaml; paths are relative to this folder\n" + \
        yaml.safe_dump(raw, sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def apply(params: Params, table_path: Path):
    """Register the definitions against the feature table at `table_path`; returns the store."""
    contract = params.model_contract
    module = _load_definitions_module(params.layout.feature_repo)
    objects = module.definitions(
        project=params.features.project, entity=params.features.entity, join_key=contract.entity_id,
        source_path=str(Path(table_path).resolve()), timestamp_field=contract.timestamp,
        views={name: v.model_dump() for name, v in params.features.views.items()},
        numeric=list(contract.numeric_features), categorical=list(contract.categorical_features),
        feature_service=params.features.feature_service)
    store = open_store(params)
    store.apply(objects)
    return store


def training_set(store, params: Params, entities: pd.DataFrame,
                 fan: Fanout | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Point-in-time features for each entity row, in input order, every row accounted for, and per
    view the number of entity rows that got no feature row (their features are null). A view over
    its allowed share (`views.<name>.max_missing_fraction`, else `features.max_missing_fraction`)
    raises FeatureStoreError naming it.

    engine `asof` (default): merge_asof driven by the Feast registry (accelops.features.asof);
    engine `feast`: Feast's own offline store (slower; rows it drops raise FeatureStoreError). `fan`: the
    asof join per entity partition (accelops.fanout)."""
    contract = params.model_contract
    if params.features.engine == "asof":
        from accelops.features.asof import historical_features

        local = params.layout.features_table            # this host's table, not the last applier's (shared registry)
        out, missing = historical_features(store, params.features.feature_service, entities, contract.timestamp,
                                           source=str(local) if local.exists() else None, fan=fan)
    else:
        out = _feast_historical(store, params, entities)
        missing = {name: int(out[view.features].isna().all(axis=1).sum())
                   for name, view in params.features.views.items()}
    for name, count in missing.items():
        view = params.features.views[name]
        allowed = params.features.max_missing_fraction if view.max_missing_fraction is None else view.max_missing_fraction
        if count / max(len(out), 1) > allowed:
            raise FeatureStoreError(
                f"{name}: {count} of {len(out)} entity rows have no feature row within the view's "
                f"{view.ttl_days}-day TTL (allowed {allowed:.0%})")
    order = [*entities.columns, *contract.feature_columns]
    return (out if list(out.columns) == order else out[order]), missing     # a selection copies every column


def _feast_historical(store, params: Params, entities: pd.DataFrame) -> pd.DataFrame:
    entity_df = entities.copy()
    entity_df[ROW_ID] = range(len(entity_df))
    service = store.get_feature_service(params.features.feature_service)
    out = store.get_historical_features(entity_df=entity_df, features=service).to_df()
    if len(out) != len(entity_df) or out[ROW_ID].duplicated().any():
        lost = len(entity_df) - out[ROW_ID].nunique()
        raise FeatureStoreError(
            f"Feast returned {len(out)} rows for {len(entity_df)} entity rows ({lost} lost, "
            "e.g. no feature row within a view's TTL)")
    return out.sort_values(ROW_ID).drop(columns=[ROW_ID]).reset_index(drop=True)


def _load_state(params: Params) -> dict:
    import json

    path = params.layout.feast_dir / "materialized.json"
    return json.loads(path.read_text()) if path.exists() else {}


def lost_views(store, params: Params) -> list[str]:
    """Views that materialized.json says are loaded but the online store no longer holds: its SQLite file
    deleted, a flushed Redis, a reset registry. Each is probed with an entity id its last load wrote; an
    incremental load would otherwise skip them and leave every id unknown. A store that cannot be
    reached at all raises FeatureStoreError (not a loss: the data may still be there)."""
    from feast.errors import FeastObjectNotFoundException

    state = _load_state(params)
    key = params.dataset.entity_id
    lost = []
    for view, entity in state.get("probe", {}).items():
        if view not in params.features.views or view not in state:
            continue
        feature = params.features.views[view].features[0]
        try:
            value = store.get_online_features(features=[f"{view}:{feature}"],
                                              entity_rows=[{key: int(entity)}]).to_dict()[feature][0]
        except FeastObjectNotFoundException:
            value = None                                 # the registry was reset: the view is unknown
        except Exception as exc:
            if not (_unreachable(exc) and "no such table" in str(exc)):
                if _unreachable(exc):
                    raise FeatureStoreError(f"online store {_describe_online(params)} cannot be read: "
                                            f"{type(exc).__name__}: {exc}") from None
                raise
            value = None
        if value is None:
            lost.append(view)
    return lost


def materialize(store, params: Params, table: pd.DataFrame, reload: Sequence[str] = ()) -> MaterializeSummary:
    """Load the latest feature values per entity into the online store, incrementally (bulk writer by
    default: same rows as Feast's materialize, measured ~30x faster; `features.online_writer: feast`).

    Feast's `materialize_incremental` on a fresh store starts at now - TTL and silently skips older
    history; here the window is explicit: from the end of the previous run (kept in a state file
    beside the registry) or, on the first run, from the table's first timestamp, up to its last. Views in
    `reload` (`lost_views`) start over from the first timestamp."""
    import json

    contract = params.dataset
    ts = table[contract.timestamp]
    state_file = params.layout.feast_dir / "materialized.json"
    state = _load_state(params)
    end = ts.max() + pd.Timedelta(seconds=1)
    views: dict[str, dict] = {}
    for view in params.features.views:
        start = pd.Timestamp(state[view]) if view in state and view not in reload else ts.min()
        if start >= end:
            views[view] = {"start": str(start), "end": str(end), "entities": 0, "skipped": True}
            continue
        if params.features.online_writer == "bulk":
            from accelops.features import online_load, row_store

            latest = online_load.latest_per_entity(table, contract.entity_id, contract.timestamp, start, end)
            if params.features.online_store == "redis":     # Feast's own writer, without the offline-store read
                cols = [contract.entity_id, contract.timestamp, *params.features.views[view].features]
                store.write_to_online_store(view, latest[cols].reset_index(drop=True))
                entities = len(latest)
            else:
                writer = row_store if params.features.online_store == "rows" else online_load
                entities = writer.write_latest(store, view, latest, contract.timestamp)
        else:
            store.materialize(start_date=start.to_pydatetime(), end_date=end.to_pydatetime(), feature_views=[view])
            entities = int(table.loc[(ts >= start) & (ts < end), contract.entity_id].nunique())
        views[view] = {"start": str(start), "end": str(end), "entities": entities, "skipped": False}
        state[view] = end.isoformat()
        loaded = table.loc[(ts >= start) & (ts < end), contract.entity_id]
        if len(loaded):          # an id this load wrote: `lost_views` asks the store for it next time
            state.setdefault("probe", {})[view] = int(loaded.iloc[-1])
        state_file.write_text(json.dumps(state, indent=2))
    return MaterializeSummary(
        start=min(v["start"] for v in views.values()), end=str(end), entities=max(v["entities"] for v in views.values()),
        skipped=all(v["skipped"] for v in views.values()), store=params.features.online_store,
        writer=params.features.online_writer, views=views)


def online_features(store, params: Params, ids: list[int]) -> tuple[pd.DataFrame, list[int]]:
    """Latest features for `ids` from the online store, in order; unknown ids are returned as a
    list (and their rows are all-null), never silently empty."""
    found = online_lookup(store, params, ids)
    return found.frame, found.unknown


@dataclass
class OnlineLookup:
    frame: pd.DataFrame                 # id + model features, in the order asked
    unknown: list[int]                  # ids the store has never seen (all-null rows)
    stale: dict[str, list[int]]         # view -> known ids whose values are older than the view's TTL


def online_lookup(store, params: Params, ids: list[int], now: pd.Timestamp | None = None) -> OnlineLookup:
    """online_features plus staleness: Feast's online reads ignore TTLs and serve the last values
    however old, so every view's event time is checked against its TTL as of `now` and known ids
    past it are reported per view (values are served unchanged)."""
    contract = params.model_contract
    rows = [{contract.entity_id: int(i)} for i in ids]
    from feast.errors import FeatureServiceNotFoundException

    try:
        service = store.get_feature_service(params.features.feature_service)
    except FeatureServiceNotFoundException:
        raise FeatureStoreError(f"the Feast registry {_describe_registry(params)} has no feature service "
                                f"{params.features.feature_service!r}: the registry is missing or was reset (rebuild "
                                "it and the online store: `accelops stage features`, then `accelops stage "
                                "materialize`, or a training run)") from None
    try:
        out = store.get_online_features(features=service, entity_rows=rows).to_df(include_event_timestamps=True)
    except Exception as exc:
        if not _unreachable(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        if "no such table" in first:      # the SQLite file was deleted (reopening it left it empty) or never loaded
            raise FeatureStoreError(f"online store {_describe_online(params)} holds no feature table ({first}): "
                                    "its file is missing or was never loaded; ids would all read as unknown "
                                    "(rebuild it: `accelops stage materialize`, or a training run)") from None
        raise FeatureStoreError(f"online store {_describe_online(params)} cannot be read: {type(exc).__name__}: "
                                f"{first} (is it running and reachable? features.online_store / features.redis)"
                                ) from None
    known = ~out[contract.feature_columns].isna().all(axis=1).to_numpy()
    unknown = [int(i) for i, k in zip(ids, known) if not k]
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    stale = {}
    for name, view in params.features.views.items():
        seconds = out[view.features[0] + "__ts"].to_numpy(dtype="int64")
        old = known & (seconds < int((now - pd.Timedelta(days=view.ttl_days)).timestamp()))
        if old.any():
            stale[name] = [int(i) for i, o in zip(ids, old) if o]
    return OnlineLookup(out[[contract.entity_id, *contract.feature_columns]], unknown, stale)
