"""Online store: loading the latest features of N customers x 20 features into Feast's SQLite
online store with Feast's default `materialize` (baseline, same run) and with accelops' bulk
writer (accelops.features.online_load); then online lookups of 1 and 1,000 entities.

    python bench/online_store.py [--customers N] [--rows-per-customer K] [--lookups L]

Both writers get a fresh store over the same feature table; the stores are compared row for row.
Prints a table, then one JSON line (bench/results/online_store.json).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from _results import emit

TARGET_SPEEDUP = 10.0


def _store(folder: Path, name: str, source: Path, n_features: int):
    from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.repo_config import RepoConfig
    from feast.types import Float64

    cfg = RepoConfig(project="bench", registry=str(folder / f"{name}_registry.db"), provider="local",
                     offline_store={"type": "file"}, online_store={"type": "sqlite", "path": str(folder / f"{name}.db")},
                     entity_key_serialization_version=3)
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
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    import pandas as pd

    from accelops.features.online_load import latest_per_entity, write_latest

    n, k = args.customers, args.rows_per_customer
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"customer_id": np.repeat(np.arange(n, dtype=np.int64), k),
                          "ts": pd.Timestamp("2026-01-01", tz="UTC")
                          + pd.to_timedelta(rng.integers(0, 86400 * 90, n * k), unit="s")})
    for i in range(args.features):
        table[f"f{i}"] = rng.normal(size=n * k)
    start, end = table["ts"].min(), table["ts"].max() + pd.Timedelta(seconds=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "features.parquet"
        table.to_parquet(source)
        feast_store, bulk_store = _store(folder, "feast", source, args.features), _store(folder, "bulk", source, args.features)

        t = time.perf_counter()
        feast_store.materialize(start_date=start.to_pydatetime(), end_date=end.to_pydatetime(), feature_views=["v"])
        t_feast = time.perf_counter() - t
        t = time.perf_counter()
        latest = latest_per_entity(table, "customer_id", "ts", start, end)
        written = write_latest(bulk_store, "v", latest, "ts")
        t_bulk = time.perf_counter() - t
        identical = _dump(folder / "feast.db") == _dump(folder / "bulk.db")

        features = [f"v:f{i}" for i in range(args.features)]
        lookups = {}
        for size in (1, 1000):
            times = []
            for _ in range(args.lookups if size == 1 else max(args.lookups // 10, 10)):
                ids = [{"customer_id": int(i)} for i in rng.integers(0, n, size)]
                t = time.perf_counter()
                bulk_store.get_online_features(features=features, entity_rows=ids).to_df()
                times.append((time.perf_counter() - t) * 1e3)
            p50, p99 = np.percentile(times, [50, 99])
            lookups[str(size)] = {"p50_ms": float(p50), "p99_ms": float(p99), "calls": len(times)}

    speedup = t_feast / t_bulk
    print(f"{'writer':28} {'seconds':>9} {'entities/s':>11}")
    print(f"{'feast materialize':28} {t_feast:>9.2f} {n / t_feast:>11.0f}")
    print(f"{'accelops bulk (executemany)':28} {t_bulk:>9.2f} {n / t_bulk:>11.0f}")
    print(f"speedup {speedup:.1f}x (target >= {TARGET_SPEEDUP}x); stores identical row for row: {identical}")
    for size, v in lookups.items():
        print(f"online lookup of {size:>4} entities: p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms")
    emit("online_store", {
        "bench": "online_store", "customers": n, "features": args.features, "rows": n * k,
        "baseline": {"feast_materialize_seconds": t_feast},
        "figures": {"bulk_seconds": t_bulk, "entities_written": written, "stores_identical": identical,
                    "lookup_ms": lookups},
        "ratio": speedup, "target": f">= {TARGET_SPEEDUP}", "met": speedup >= TARGET_SPEEDUP and identical,
    }, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
