"""The materialize stage: the online store serves the latest features, incrementally, and the bulk
writers leave the stores exactly as Feast's own materialize does."""

import numpy as np
import pandas as pd


def test_online_store_serves_latest_features_and_reports_unknown_ids(trained):
    from accelops.features.store import online_features, online_lookup, open_store

    params, out = trained.params, trained.out
    assert out["materialize"].entities > 0 and not out["materialize"].skipped
    table = pd.read_parquet(params.layout.features_table)
    latest = table.sort_values("event_timestamp").groupby("customer_id").tail(1).set_index("customer_id")
    ids = latest.index[:3].tolist() + [10**9]
    frame, unknown = online_features(open_store(params), params, ids)
    assert unknown == [10**9] and list(frame["customer_id"]) == ids
    np.testing.assert_allclose(frame["monthly_charges"][:3], latest.loc[ids[:3], "monthly_charges"])
    assert frame.iloc[3][params.model_contract.feature_columns].isna().all()
    # Feast ignores TTLs online; the lookup reports values past their view's TTL (and serves them)
    last = latest.loc[ids[:3], "event_timestamp"]
    fresh = online_lookup(open_store(params), params, ids, now=last.max())
    assert fresh.stale == {} and fresh.unknown == [10**9]
    ttl = pd.Timedelta(days=params.features.views["customer_usage_windows"].ttl_days)
    later = online_lookup(open_store(params), params, ids, now=last.min() + ttl + pd.Timedelta(seconds=1))
    assert later.stale == {"customer_usage_windows": [i for i in ids[:3] if last[i] == last.min()]}
    pd.testing.assert_frame_equal(later.frame, frame)


def test_online_window_aggregates_are_the_training_definition_at_request_time(trained):
    """Train/serve skew: online inputs at an entity's last event are exactly its training row (built by
    the features stage through Feast's as-of join); days later, the same snapshot's windows hold only
    the events still inside them, as the training definition computes for a row written then."""
    from accelops.features.store import online_lookup, open_store
    from accelops.features.windows import window_features
    from accelops.pipeline.online import online_inputs

    params = trained.params
    c, mc, w = params.dataset, params.model_contract, params.features.windows
    table = pd.read_parquet(params.layout.features_table)
    training = pd.read_parquet(params.layout.training_set).set_index([c.entity_id, c.timestamp])
    last = table.groupby(c.entity_id)[c.timestamp].max()
    counts = table.groupby(c.entity_id).size()
    busy = [int(k) for k in counts[counts >= 3].index[:4]]            # entities with earlier events in window
    numeric = [col for col in mc.feature_columns if col not in mc.categorical_features]
    for k in busy:
        got, _ = online_inputs(params, [k], now=last[k])
        expected = training.loc[[(k, last[k])], mc.feature_columns]
        np.testing.assert_allclose(got[numeric].to_numpy(float), expected[numeric].to_numpy(float), rtol=1e-9)
        assert got[list(mc.categorical_features)].astype(str).values.tolist() == \
            expected[list(mc.categorical_features)].astype(str).values.tolist()

    now = last.max() + pd.Timedelta(days=10)
    got, _ = online_inputs(params, busy, now=now)
    moved = table.copy()
    latest_rows = moved[c.timestamp].eq(moved[c.entity_id].map(last)) & moved[c.entity_id].isin(busy)
    moved.loc[latest_rows, c.timestamp] = now                            # the snapshot, observed at `now`
    definition = window_features(moved, c.entity_id, c.timestamp, w)[latest_rows.to_numpy()]
    definition.index = moved.loc[latest_rows, c.entity_id].to_numpy()
    for col in w.columns():
        np.testing.assert_allclose(got.set_index(c.entity_id).loc[busy, col].to_numpy(float),
                                   definition.loc[busy, col].to_numpy(float), rtol=1e-9)
    # ten days on, a 7-day window holds the snapshot alone, and the 30-day ones lost events the stored
    # values (the aggregates as of the last event) still count
    assert (got["events_7d"] == 1).all()
    stored = online_lookup(open_store(params), params, busy, now=now).frame.set_index(c.entity_id)
    assert (stored.loc[busy, "events_30d"].to_numpy() > got.set_index(c.entity_id).loc[busy, "events_30d"]
            .to_numpy()).any()


def test_materialization_is_incremental_and_covers_old_history(trained_copy):
    """The first run covered history months before 'now' (Feast's incremental default would not);
    a second run with no new rows writes nothing; new rows are picked up from where it stopped."""
    from accelops.features import store as fs

    params, out = trained_copy.params, trained_copy.out
    table = pd.read_parquet(params.layout.features_table)
    assert pd.Timestamp(out["materialize"].start) == table["event_timestamp"].min()
    store = fs.open_store(params)
    again = fs.materialize(store, params, table)
    assert again.skipped is True
    newer = table.tail(5).copy()
    newer["event_timestamp"] = table["event_timestamp"].max() + pd.Timedelta(days=1)
    newer["monthly_charges"] = 999.0
    combined = pd.concat([table, newer], ignore_index=True)
    combined.to_parquet(params.layout.features_table)
    step = fs.materialize(store, params, combined)
    assert not step.skipped and step.entities == newer["customer_id"].nunique()
    frame, unknown = fs.online_features(store, params, newer["customer_id"].tolist())
    assert unknown == [] and (frame["monthly_charges"] == 999.0).all()


def test_bulk_online_writers_leave_the_same_stores_as_feast_materialize(trained, tmp_path):
    """For both online layouts (Feast's SQLite row per feature; accelops' Feast online store with a
    row per entity) the bulk writer leaves the store row for row as Feast's own materialize does,
    nulls and strings included, and all four read back identically through Feast."""
    import sqlite3

    from accelops.features import store as fs

    params = trained.params
    table = pd.read_parquet(params.layout.features_table).head(3000)
    table.loc[table.index[:7], "monthly_charges"] = np.nan          # nulls must round-trip as Feast writes them
    table.loc[table.index[3:9], "plan"] = None
    source = tmp_path / "features.parquet"
    table.to_parquet(source)
    ids = table["customer_id"].drop_duplicates().tolist()[:50] + [10**9]
    frames = []
    for layout, db in (("sqlite", "online_store.db"), ("rows", "online_rows.db")):
        dumps = []
        for writer in ("feast", "bulk"):
            p = params.replace(paths={"workdir": str(tmp_path / f"{layout}-{writer}")},
                               features={"online_store": layout, "online_writer": writer})
            store = fs.apply(p, source)
            out = fs.materialize(store, p, table)
            assert (out.store, out.writer) == (layout, writer)
            assert out.entities == table["customer_id"].nunique()
            with sqlite3.connect(p.layout.feast_dir / db) as conn:
                names = sorted(n for (n,) in conn.execute("select name from sqlite_master where type='table' and "
                                                          "name like 'accelops%' and name != 'accelops_row_layout'"))
                assert len(names) == len(params.features.views)              # one table per feature view
                dumps.append([(n, *row) for n in names
                              for row in conn.execute(f'select * from "{n}" order by 1, 2').fetchall()])
            frame, unknown = fs.online_features(store, p, ids)
            assert unknown == [10**9]
            frames.append(frame)
        assert len(dumps[0]) == table["customer_id"].nunique() * (len(params.model_contract.feature_columns)
                                                                  if layout == "sqlite" else len(params.features.views))
        assert dumps[0] == dumps[1]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], frame)
