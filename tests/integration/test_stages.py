"""Every stage with the real tools (GE, Feast, torch, MLflow) on small data in a temp folder."""

import json

import numpy as np
import pandas as pd
import pytest

from accelops.errors import DataValidationError, StageInputMissing
from accelops.pipeline import stages


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """generate -> validate -> features -> train -> evaluate -> register -> materialize, once."""
    from accelops.config import load_params
    from helpers import write_params

    params = load_params(write_params(tmp_path_factory.mktemp("stages")))
    out = {name: stages.STAGES[name](params) for name in ("generate", *stages.TRAINING_STAGES)}
    return params, out


def test_stage_outputs_on_disk(trained):
    params, out = trained
    lay = params.layout
    for path in (lay.validated, lay.features_table, lay.training_set, lay.predictions, lay.metrics_file,
                 lay.registration_file, lay.reports / "validation.json", lay.model_dir / "model.pt"):
        assert path.exists(), path
    assert out["validate"].rows == out["features"].rows == params.generate.rows
    metrics = json.loads(lay.metrics_file.read_text())
    assert metrics["roc_auc"] > 0.7 and metrics["rows"] == pd.read_parquet(lay.predictions).shape[0]


def test_evaluation_report_and_its_mlflow_artifacts(trained):
    import mlflow

    params, out = trained
    lay = params.layout
    report = json.loads((lay.evaluation_dir / "evaluation.json").read_text())
    assert report["schema_version"] == 1
    assert {"overall", "intervals", "threshold", "at_threshold", "calibration", "slices", "weak_slices",
            "fairness", "robustness", "behaviour", "artifacts"} <= set(report)
    ci = report["intervals"]["roc_auc"]
    assert ci["low"] < report["overall"]["roc_auc"] < ci["high"]
    assert report["calibration"]["temperature"] > 0
    assert set(report["robustness"]["curves"]) == {"gaussian_noise", "missing", "category_corruption", "fgsm"}
    assert all(b["passed"] for b in report["behaviour"]["invariance"])
    assert set(report["fairness"]["columns"]) == set(params.evaluate.sensitive)
    run_id = out["register"].run_id
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "evaluation")}
    assert {"evaluation/reliability.png", "evaluation/slices.png", "evaluation/robustness.png",
            "evaluation/evaluation.json", "evaluation/slices.csv", "evaluation/summary.md"} <= listed
    metrics = mlflow.get_run(run_id).data.metrics
    assert {"ece_before", "ece_after", "test_roc_auc_ci_low", "test_f1", "fairness.region.dp_diff"} <= set(metrics)
    # validation provenance and Data Docs travel with the run
    from accelops.hashing import file_sha256

    run_tags = mlflow.get_run(run_id).data.tags
    assert run_tags["data.source_sha256"] == file_sha256(lay.history)
    assert run_tags["validation.suite_version"] == json.loads(
        (lay.reports / "validation.json").read_text())["provenance"]["suite_version"]
    assert "data_docs/index.html" in {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "data_docs")}
    assert lay.reference_profile.exists()                      # the first accepted data became the reference
    stats = json.loads((lay.reports / "feature_stats.json").read_text())["views"]
    table = pd.read_parquet(lay.features_table)
    assert set(stats) == set(params.features.views)                   # one entry per feature view
    for view, spec in params.features.views.items():
        assert stats[view]["rows"] == len(table) and list(stats[view]["features"]) == spec.features
    profile = next(v for v, spec in params.features.views.items() if "monthly_charges" in spec.features)
    assert stats[profile]["features"]["monthly_charges"]["mean"] == pytest.approx(table["monthly_charges"].mean())
    assert all(stats[view]["training_rows_missing"] == 0 for view in params.features.views)
    assert "reports/feature_stats.json" in {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "reports")}
    assert any(k.startswith("robustness.fgsm.") for k in metrics)
    # the network beside its scikit-learn baseline, with curves and the run's hardware facts
    assert {"baseline_test_roc_auc", "network_minus_baseline_auc", "train_seconds"} <= set(metrics)
    assert metrics["baseline_test_roc_auc"] > 0.7
    assert "reports/training_curves.png" in {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "reports")}
    tags = mlflow.get_run(run_id).data.tags
    assert tags["precision"] in {"fp32", "bf16"} and tags["threads"] == "1"
    assert len(mlflow.MlflowClient().get_metric_history(run_id, "lr")) == json.loads(
        (lay.reports / "training.json").read_text())["epochs_run"]


def test_served_model_applies_the_fitted_temperature(trained):
    import mlflow

    from accelops.training.predict import Predictor

    params, out = trained
    test = pd.read_parquet(params.layout.predictions)
    served = mlflow.pyfunc.load_model(out["register"].model_uri)
    # the served variant is the benchmark's batch recommendation: as close to fp32 eager as it measured
    batch = json.loads((params.layout.reports / "benchmark" / "benchmark.json").read_text())["recommendation"]["batch"]
    diff = np.abs(np.asarray(served.predict(test[params.model_contract.feature_columns])) - test["prediction"])
    assert diff.max() <= batch["max_prob_diff"] + 1e-6
    raw = 1 / (1 + np.exp(-test["logit"]))
    assert Predictor(params.layout.model_dir).temperature != 1.0
    assert not np.allclose(raw, test["prediction"])


def test_no_pii_or_label_reaches_the_feature_store(trained):
    params, _ = trained
    table = pd.read_parquet(params.layout.features_table)
    assert not set(params.dataset.pii) & set(table.columns)
    assert params.dataset.label not in table.columns
    validated = pd.read_parquet(params.layout.validated)
    assert not set(params.dataset.pii) & set(validated.columns)


def test_point_in_time_training_set_keeps_every_row_in_order(trained):
    params, _ = trained
    c = params.dataset
    validated = pd.read_parquet(params.layout.validated)
    ts = pd.read_parquet(params.layout.training_set)
    assert len(ts) == len(validated)
    pd.testing.assert_series_equal(ts[c.entity_id], validated[c.entity_id], check_names=False)
    np.testing.assert_allclose(ts["monthly_charges"], validated["monthly_charges"])
    assert (ts["plan"] == validated["plan"]).all()
    # the windowed aggregates arrive through their own view, as of each row's time
    from accelops.features.windows import window_features

    expected = window_features(validated, c.entity_id, c.timestamp, params.features.windows)
    for col in expected:
        np.testing.assert_allclose(ts[col], expected[col], rtol=1e-9, err_msg=col)
    assert (ts["events_7d"] >= 1).all() and (ts["events_30d"] >= ts["events_7d"]).all()
    assert (ts["events_30d"] > 1).any()


def test_online_store_serves_latest_features_and_reports_unknown_ids(trained):
    from accelops.features.store import online_features, open_store

    params, out = trained
    assert out["materialize"].entities > 0 and not out["materialize"].skipped
    table = pd.read_parquet(params.layout.features_table)
    latest = table.sort_values("event_timestamp").groupby("customer_id").tail(1).set_index("customer_id")
    ids = latest.index[:3].tolist() + [10**9]
    frame, unknown = online_features(open_store(params), params, ids)
    assert unknown == [10**9] and list(frame["customer_id"]) == ids
    np.testing.assert_allclose(frame["monthly_charges"][:3], latest.loc[ids[:3], "monthly_charges"])
    assert frame.iloc[3][params.model_contract.feature_columns].isna().all()
    # Feast ignores TTLs online; the lookup reports values past their view's TTL (and serves them)
    from accelops.features.store import online_lookup

    last = latest.loc[ids[:3], "event_timestamp"]
    fresh = online_lookup(open_store(params), params, ids, now=last.max())
    assert fresh.stale == {} and fresh.unknown == [10**9]
    ttl = pd.Timedelta(days=params.features.views["customer_usage_windows"].ttl_days)
    later = online_lookup(open_store(params), params, ids, now=last.min() + ttl + pd.Timedelta(seconds=1))
    assert later.stale == {"customer_usage_windows": [i for i in ids[:3] if last[i] == last.min()]}
    pd.testing.assert_frame_equal(later.frame, frame)


def test_feature_store_yaml_lets_feast_itself_open_the_store(trained):
    """workdir/feast/feature_store.yaml (relative paths, no secrets) opens the same registry and online
    store through Feast's own loader, as the Feast CLI would."""
    from feast import FeatureStore

    params, _ = trained
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


def test_materialization_is_incremental_and_covers_old_history(trained):
    """The first run covered history months before 'now' (Feast's incremental default would not);
    a second run with no new rows writes nothing; new rows are picked up from where it stopped."""
    from accelops.features import store as fs

    params, out = trained
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
    try:
        step = fs.materialize(store, params, combined)
        assert not step.skipped and step.entities == newer["customer_id"].nunique()
        frame, unknown = fs.online_features(store, params, newer["customer_id"].tolist())
        assert unknown == [] and (frame["monthly_charges"] == 999.0).all()
    finally:
        table.to_parquet(params.layout.features_table)


def test_bulk_online_writers_leave_the_same_stores_as_feast_materialize(trained, tmp_path):
    """For both online layouts (Feast's SQLite row per feature; accelops' Feast online store with a
    row per entity) the bulk writer leaves the store row for row as Feast's own materialize does,
    nulls and strings included, and all four read back identically through Feast."""
    import sqlite3

    from accelops.features import store as fs

    params, _ = trained
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


def test_first_model_becomes_champion_and_a_worse_challenger_is_rejected(trained):
    import mlflow

    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    params, out = trained
    assert out["register"].promoted and out["register"].reason == "no champion yet"
    client = tracking.connect(params)
    name = params.register_.model_name
    assert str(current_champion(client, name).version) == out["register"].version

    # a challenger trained on shuffled labels is worse on the same test split
    lay = params.layout
    ts = pd.read_parquet(lay.training_set)
    ts["churned"] = np.random.default_rng(0).permutation(ts["churned"].to_numpy())
    ts.to_parquet(lay.training_set)
    stages.train(params)
    stages.evaluate(params)
    with pytest.raises(StageInputMissing, match="benchmark.*another model"):
        stages.register(params, reason="stale benchmark")       # nothing registered with the old table
    stages.benchmark(params)
    decision = stages.register(params, reason="test: worse challenger")
    assert not decision.promoted
    assert decision.champion_auc > decision.challenger_auc
    assert str(current_champion(client, name).version) == out["register"].version     # unchanged
    tags = client.get_model_version(name, decision.version).tags
    assert tags["gate.decision"] == "rejected" and "<" in tags["gate.reason"]
    run = mlflow.get_run(decision.run_id)
    assert run.data.tags["trigger"] == "test: worse challenger"
    assert {"data_hash", "params_hash", "git_commit", "device", "torch_version"} <= set(run.data.tags)
    assert "test_roc_auc" in run.data.metrics and any(k.startswith("slice.plan.") for k in run.data.metrics)
    assert len(client.get_metric_history(decision.run_id, "valid_auc")) >= 1


def test_benchmark_is_logged_served_and_gates_promotion(trained):
    import mlflow

    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    params, out = trained
    lay = params.layout
    rec = out["benchmark"].recommendation
    assert out["benchmark"].enabled and rec.meets_online_objective and rec.online and rec.batch
    run_id = out["register"].run_id
    tags = mlflow.get_run(run_id).data.tags
    assert tags["serving.online.variant"] == rec.online.variant and tags["serving.batch.variant"] == rec.batch.variant
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "benchmark")}
    assert {"benchmark/benchmark.csv", "benchmark/benchmark.json", "benchmark/latency_vs_batch.png",
            "benchmark/cost_vs_latency.png"} <= listed
    served = mlflow.pyfunc.load_model(out["register"].model_uri).unwrap_python_model()
    assert served._scorer.variant.name == rec.batch.variant                # batch scoring path
    assert (lay.serving_dir / "student" / "model.onnx").exists()

    # an objective no variant can meet: registered, not promoted, champion untouched
    client = tracking.connect(params)
    name = params.register_.model_name
    before = current_champion(client, name).version
    strict = params.replace(benchmark={"online_p99_ms": 1e-6})
    stages.benchmark(strict)
    decision = stages.register(strict, reason="test: too slow to serve")
    assert not decision.promoted and decision.reason.startswith("misses the serving objective")
    assert current_champion(client, name).version == before
    assert json.loads((lay.serving_dir / "serving.json").read_text())["online"] is None


def test_status_reports_champion_and_decisions(trained):
    from accelops.registry.status import collect, render

    params, out = trained
    facts = collect(params)
    assert facts["champion"]["version"] == int(out["register"].version)
    assert facts["champion"]["test_metrics"]["roc_auc"] > 0.7
    assert [v["gate_decision"] for v in facts["versions"]][0] == "promoted"
    online = out["benchmark"].recommendation.online.variant
    assert facts["champion"]["serving"]["online.variant"] == online
    assert f"serves online on {online}" in render(facts)


def test_bad_batch_stops_before_training(tmp_path, params):
    from accelops.data.generator import generate, write

    write(generate(2000, 10, "2026-06-01", 1, "new_category"), params.layout.history)
    with pytest.raises(DataValidationError, match="column channel: expect_column_values_to_be_in_set"):
        stages.validate(params)
    assert not params.layout.validated.exists()
    report = json.loads((params.layout.reports / "validation.json").read_text())
    assert report["success"] is False
    with pytest.raises(StageInputMissing, match="run the 'validate' stage first"):
        stages.features(params)


def test_cli_training_set_for_any_entity_file(trained, tmp_path):
    from typer.testing import CliRunner

    from accelops.cli import app

    params, _ = trained
    validated = pd.read_parquet(params.layout.validated)
    entities = validated[["customer_id", "event_timestamp"]].sample(50, random_state=1)
    entities["event_timestamp"] = entities["event_timestamp"] + pd.Timedelta(hours=1)
    entities_path, out = tmp_path / "entities.csv", tmp_path / "ts.parquet"
    entities.to_csv(entities_path, index=False)
    params_file = params.root / "params.yaml"
    res = CliRunner().invoke(app, ["features", "training-set", "--entities", str(entities_path),
                                   "--out", str(out), "--params", str(params_file)])
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

    params, _ = trained
    c = params.model_contract
    validated = pd.read_parquet(params.layout.validated)
    ents = validated[[c.entity_id, c.timestamp]].sample(300, random_state=2).reset_index(drop=True)
    ents[c.timestamp] = ents[c.timestamp] + pd.to_timedelta(np.arange(300) % 7, unit="D")
    store = fs.open_store(params)
    asof, missing = fs.training_set(store, params, ents)
    feast, _ = fs.training_set(store, params.replace(features={"engine": "feast"}), ents)
    pd.testing.assert_frame_equal(asof, feast, check_dtype=False)
    assert missing == {name: 0 for name in params.features.views}
    # an entity unknown to the store: Feast's file store drops the row, the as-of engine keeps it
    ghost = pd.concat([ents, pd.DataFrame({c.entity_id: [10**9], c.timestamp: [ents[c.timestamp].max()]})],
                      ignore_index=True)
    lenient = params.replace(features={"max_missing_fraction": 0.01})
    kept, missing = fs.training_set(store, lenient, ghost)
    assert len(kept) == len(ghost) and kept.iloc[-1][c.feature_columns].isna().all()
    assert missing == {name: 1 for name in params.features.views}
    with pytest.raises(Exception, match="entity rows have no feature row"):
        fs.training_set(store, params, ghost)
    # 45 days after each row: past the windows view's 30-day TTL only; gated per view
    late = ents.assign(**{c.timestamp: ents[c.timestamp] + pd.Timedelta(days=45)})
    with pytest.raises(Exception, match="^customer_usage_windows: .* 30-day TTL"):
        fs.training_set(store, params, late)
    views = {**params.model_dump(by_alias=True)["features"]["views"]}
    views["customer_usage_windows"] = {**views["customer_usage_windows"], "max_missing_fraction": 1.0}
    out, missing = fs.training_set(store, params.replace(features={"views": views}), late)
    assert missing["customer_profile"] == missing["customer_usage"] == 0
    assert 0 < missing["customer_usage_windows"] == int(out["events_30d"].isna().sum())
