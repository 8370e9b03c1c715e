"""The features stage with the real Feast: the feature table, the registered definitions and the
point-in-time training set (the as-of engine against Feast's own offline store)."""

import json

import numpy as np
import pandas as pd
import pytest

from accelops.errors import FeatureStoreError


def test_feature_table_and_training_set_keep_every_row_and_no_pii_or_label(trained):
    params, out = trained.params, trained.out
    table = pd.read_parquet(params.layout.features_table)
    assert out["features"].rows == params.generate.rows == len(table)
    assert not set(params.dataset.pii) & set(table.columns)
    assert params.dataset.label not in table.columns


def test_feature_stats_per_view(trained):
    params = trained.params
    stats = json.loads(params.layout.feature_stats.read_text())["views"]
    table = pd.read_parquet(params.layout.features_table)
    assert set(stats) == set(params.features.views)                   # one entry per feature view
    for view, spec in params.features.views.items():
        assert stats[view]["rows"] == len(table) and list(stats[view]["features"]) == spec.features
    profile = next(v for v, spec in params.features.views.items() if "monthly_charges" in spec.features)
    assert stats[profile]["features"]["monthly_charges"]["mean"] == pytest.approx(table["monthly_charges"].mean())
    assert all(stats[view]["training_rows_missing"] == 0 for view in params.features.views)


def test_point_in_time_training_set_keeps_every_row_in_order(trained):
    params = trained.params
    contract = params.dataset
    validated = pd.read_parquet(params.layout.validated)
    ts = pd.read_parquet(params.layout.training_set)
    assert len(ts) == len(validated)
    pd.testing.assert_series_equal(ts[contract.entity_id], validated[contract.entity_id], check_names=False)
    np.testing.assert_allclose(ts["monthly_charges"], validated["monthly_charges"])
    assert (ts["plan"] == validated["plan"]).all()
    # the windowed aggregates arrive through their own view, as of each row's time
    from accelops.features.windows import window_features

    expected = window_features(validated, contract.entity_id, contract.timestamp, params.features.windows)
    for col in expected:
        np.testing.assert_allclose(ts[col], expected[col], rtol=1e-9, err_msg=col)
    assert (ts["events_7d"] >= 1).all() and (ts["events_30d"] >= ts["events_7d"]).all()
    assert (ts["events_30d"] > 1).any()


def test_feature_store_yaml_lets_feast_itself_open_the_store(trained):
    """workdir/feast/feature_store.yaml (relative paths, no secrets) opens the same registry and online
    store through Feast's own loader, as the Feast CLI would."""
    from feast import FeatureStore

    params = trained.params
    folder = params.layout.feast_dir
    text = (folder / "feature_store.yaml").read_text()
    assert str(params.layout.workdir) not in text and "RowSqliteOnlineStore" in text
    store = FeatureStore(repo_path=str(folder))
    assert sorted(v.name for v in store.list_feature_views()) == sorted(params.features.views)
    service = store.get_feature_service(params.features.feature_service)
    assert sorted(p.name for p in service.feature_view_projections) == sorted(params.features.views)
    ids = pd.read_parquet(params.layout.features_table)["customer_id"].head(3).tolist()
    out = store.get_online_features(features=store.get_feature_service(params.features.feature_service),
                                    entity_rows=[{"customer_id": int(i)} for i in ids]).to_df()
    assert out["monthly_charges"].notna().all()


def test_cli_training_set_for_any_entity_file(trained, tmp_path):
    from typer.testing import CliRunner

    from accelops.cli import app

    validated = pd.read_parquet(trained.params.layout.validated)
    entities = validated[["customer_id", "event_timestamp"]].sample(50, random_state=1)
    entities["event_timestamp"] = entities["event_timestamp"] + pd.Timedelta(hours=1)
    entities_path, out = tmp_path / "entities.csv", tmp_path / "ts.parquet"
    entities.to_csv(entities_path, index=False)
    res = CliRunner().invoke(app, ["features", "training-set", "--entities", str(entities_path),
                                   "--out", str(out), "--params", str(trained.path)])
    assert res.exit_code == 0, res.output
    assert "rows with no feature row per view: {'customer_profile': 0" in res.output
    got = pd.read_parquet(out)
    assert len(got) == 50 and list(got["customer_id"]) == list(entities["customer_id"])
    # as of one hour later, each row sees the snapshot taken at its original timestamp
    expected = validated.set_index(["customer_id", "event_timestamp"]).loc[
        list(zip(entities["customer_id"], entities["event_timestamp"] - pd.Timedelta(hours=1))), "monthly_charges"]
    np.testing.assert_allclose(got["monthly_charges"], expected.to_numpy())


def test_asof_engine_agrees_with_feasts_offline_store_and_keeps_what_feast_drops(trained):
    from accelops.features import store as fs

    params = trained.params
    contract = params.model_contract
    validated = pd.read_parquet(params.layout.validated)
    ents = validated[[contract.entity_id, contract.timestamp]].sample(300, random_state=2).reset_index(drop=True)
    ents[contract.timestamp] = ents[contract.timestamp] + pd.to_timedelta(np.arange(300) % 7, unit="D")
    store = fs.open_store(params)
    asof, missing = fs.training_set(store, params, ents)
    feast, _ = fs.training_set(store, params.replace(features={"engine": "feast"}), ents)
    pd.testing.assert_frame_equal(asof, feast, check_dtype=False)
    assert missing == {name: 0 for name in params.features.views}
    # an entity unknown to the store: Feast's file store drops the row, the as-of engine keeps it
    unknown = pd.DataFrame({contract.entity_id: [10**9], contract.timestamp: [ents[contract.timestamp].max()]})
    ghost = pd.concat([ents, unknown], ignore_index=True)
    lenient = params.replace(features={"max_missing_fraction": 0.01})
    kept, missing = fs.training_set(store, lenient, ghost)
    assert len(kept) == len(ghost) and kept.iloc[-1][contract.feature_columns].isna().all()
    assert missing == {name: 1 for name in params.features.views}
    with pytest.raises(FeatureStoreError, match="entity rows have no feature row"):
        fs.training_set(store, params, ghost)
    # 45 days after each row: past the windows view's 30-day TTL only; gated per view
    late = ents.assign(**{contract.timestamp: ents[contract.timestamp] + pd.Timedelta(days=45)})
    with pytest.raises(FeatureStoreError, match="^customer_usage_windows: .* 30-day TTL"):
        fs.training_set(store, params, late)
    views = {**params.model_dump(by_alias=True)["features"]["views"]}
    views["customer_usage_windows"] = {**views["customer_usage_windows"], "max_missing_fraction": 1.0}
    out, missing = fs.training_set(store, params.replace(features={"views": views}), late)
    assert missing["customer_profile"] == missing["customer_usage"] == 0
    assert 0 < missing["customer_usage_windows"] == int(out["events_30d"].isna().sum())


def test_another_host_applying_last_to_a_shared_registry_does_not_change_this_hosts_training_set(trained_copy,
                                                                                                  tmp_path):
    """A Feast registry shared by hosts (the SQL registry) holds the offline source path of whichever host
    applied last; the as-of join reads this host's own feature table."""
    from accelops.features import store as fs
    from accelops.features.asof import view_specs
    from accelops.features.build import entity_rows

    params = trained_copy.params
    entities = entity_rows(pd.read_parquet(params.layout.validated), params.dataset)
    before, _ = fs.training_set(fs.open_store(params), params, entities)
    other = pd.read_parquet(params.layout.features_table)
    other["monthly_charges"] += 1000.0                               # the other host's (different) table
    other_path = tmp_path / "other_host" / "features.parquet"
    other_path.parent.mkdir()
    other.to_parquet(other_path)
    store = fs.apply(params, other_path)                             # it applied last
    assert {spec.path for spec in view_specs(store, params.features.feature_service)} == {str(other_path.resolve())}
    after, _ = fs.training_set(store, params, entities)
    pd.testing.assert_frame_equal(after, before)
