"""A monitored batch is compared with the champion's own training set (kept under the content hash
recorded on its version), never with whatever the last features run left behind."""

from pathlib import Path

import pandas as pd

from accelops.data.generator import generate, write
from accelops.pipeline import batch_stages


def test_drift_is_measured_against_the_champions_own_training_set(trained_copy, tmp_path):
    params = trained_copy.params
    lay = params.layout
    batch = tmp_path / "batch.parquet"
    write(generate(1500, 7, "2026-08-01", seed=5, scenario="none"), batch)
    # the last features run now holds other data (as after a rejected retrain on a drifted batch)
    shifted = pd.read_parquet(lay.training_set)
    shifted["monthly_charges"] *= 3
    shifted["support_tickets"] += 5
    shifted.to_parquet(lay.training_set)

    decision = batch_stages.check_batch(params, batch)
    assert decision.reference.startswith("training set of v1 (sha256 ")
    assert not {"monthly_charges", "support_tickets"} & set(decision.drifted_columns)

    for kept in lay.training_sets_dir.glob("*.parquet"):         # a champion from before sets were kept
        kept.unlink()
    fallback = batch_stages.check_batch(params, batch)
    assert fallback.reference.startswith("last features run")
    assert {"monthly_charges", "support_tickets"} <= set(fallback.drifted_columns)


def test_retraining_data_reports_history_rows_the_batch_replaces(trained_copy, tmp_path):
    params = trained_copy.params
    history = pd.read_parquet(params.layout.history)
    again = history.tail(5).assign(monthly_charges=1.0)               # re-delivered events, corrected
    fresh = generate(100, 7, "2026-08-01", seed=9, scenario="none").frame
    batch = tmp_path / "batch.parquet"
    pd.concat([again, fresh], ignore_index=True).to_parquet(batch)
    out = batch_stages.retraining_data(params, batch)
    assert (out.previous_rows, out.batch_rows, out.replaced) == (len(history), 105, 5)
    combined = pd.read_parquet(out.path)
    assert len(combined) == out.rows == len(history) + 100
    keys = combined.set_index(["customer_id", "event_timestamp"])
    assert (keys.loc[list(zip(again["customer_id"], again["event_timestamp"])), "monthly_charges"] == 1.0).all()


def test_each_window_is_a_point_on_the_mlflow_monitoring_timeline_with_its_evidence(trained_copy, tmp_path):
    import json

    import mlflow

    from accelops.data.generator import continuing_customers

    params = trained_copy.params
    batches = []
    customers = continuing_customers(3000, 7, params.generate.rows, params.generate.days)
    for seed, scenario in ((6, "none"), (7, "slice_shift")):
        batches.append(tmp_path / f"{scenario}.parquet")
        write(generate(3000, 7, "2026-08-01", seed=seed, scenario=scenario, customers=customers), batches[-1])
    quiet, shifted = (batch_stages.check_batch(params, b) for b in batches)
    assert not quiet.window_drifted and all(c.p_value > 0 for c in quiet.columns)
    # slice_shift moves usage features of region=north only: the slice is named
    north = next(s for s in shifted.slices if (s.slice, s.value) == ("region", "north"))
    assert north.drifted_columns and shifted.slices[0].slice == "region" and shifted.slices[0].value == "north"
    usage = {"monthly_charges", "data_usage_gb", "sessions_last_30d", "support_tickets"}
    assert usage <= set(north.drifted_columns)
    others = [s for s in shifted.slices if s.slice == "region" and s.value != "north"]
    assert all(s.max_effect < north.max_effect / 2 for s in others)

    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(f"{params.register_.experiment}-monitoring")
    (run,) = client.search_runs([exp.experiment_id])
    points = client.get_metric_history(run.info.run_id, "drift_share")
    assert [p.step for p in points] == [0, 1] and points[1].value == shifted.drift_share
    assert len(client.get_metric_history(run.info.run_id, "effect.monthly_charges")) == 2
    evidence = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/windows/00001_slice_shift.json"))
    assert evidence["reason"] == shifted.reason and evidence["policy"]["windows"] == 2


def test_unlabelled_windows_are_estimated_then_measured_when_their_labels_land(trained_copy, tmp_path):
    """A batch without its label column is scored and estimated (CBPE); its labels land later in
    monitor.labels and give realised AUC beside the estimate; a concept shift shows as decay that
    retrains; the retraining data takes each row's late label."""
    import json

    from accelops.data.generator import continuing_customers

    params = trained_copy.params
    lay, c, g = params.layout, params.dataset, params.generate
    labels_dir = params.labels
    customers = continuing_customers(3000, 7, g.rows, g.days)      # the history's cadence: no events_7d drift

    def day(start: str, seed: int, scenario: str) -> pd.DataFrame:
        return generate(3000, 7, start, seed=seed, scenario=scenario, customers=customers).frame

    quiet = day("2026-08-01", 11, "none")
    batch = tmp_path / "day1.parquet"
    quiet.drop(columns=[c.label]).to_parquet(batch)
    first = batch_stages.check_batch(params, batch)
    log = pd.read_parquet(lay.prediction_log(batch))
    assert c.label not in log.columns and set(log["model_version"]) == {first.champion_version}
    assert log["variant"].iloc[0].count("/") == 3 and {"region", "plan"} <= set(log.columns)
    assert not set(c.pii) & set(log.columns)
    assert first.performance.labelled == 0 and first.performance.realised_auc is None
    assert 0.6 < first.performance.estimated_auc < 0.95
    assert first.prediction is not None and not first.prediction.drifted and first.label is None
    assert {i.column for i in first.attribution.impacts} >= set(c.feature_columns)

    labels_dir.mkdir(parents=True, exist_ok=True)
    quiet[[c.entity_id, c.timestamp, c.label]].to_parquet(labels_dir / "day1_labels.parquet")
    concept = day("2026-08-09", 12, "concept_drift")
    second_batch = tmp_path / "day2.parquet"
    concept.drop(columns=[c.label]).to_parquet(second_batch)
    second = batch_stages.check_batch(params, second_batch)
    windows = json.loads(lay.window_performance.read_text())
    day1 = windows["day1"]
    assert day1["labelled"] == 3000 and abs(day1["estimate_error"]) < 0.05
    assert not second.retrain and second.performance.realised_auc is None     # its labels are not in yet

    # the concept shift's labels land: realised AUC falls far below the estimate, and decay retrains
    concept[[c.entity_id, c.timestamp, c.label]].to_parquet(labels_dir / "day2_labels.parquet")
    third_batch = tmp_path / "day3.parquet"
    day("2026-08-17", 13, "concept_drift").drop(columns=[c.label]).to_parquet(third_batch)
    third = batch_stages.check_batch(params, third_batch)
    day2 = json.loads(lay.window_performance.read_text())["day2"]
    assert day2["realised_auc"] < day1["realised_auc"] - 0.05 and day2["estimate_error"] > 0.05
    assert third.retrain and third.policy["decay"].startswith("performance decay"), third.reason
    data = batch_stages.retraining_data(params, third.policy["batches"])
    assert data.batch_rows == 6000 and data.unlabelled == 3000           # day 3's labels are still out
    rows = pd.read_parquet(data.path)
    joined = rows.merge(concept[[c.entity_id, c.timestamp, c.label]], on=[c.entity_id, c.timestamp],
                        suffixes=("", "_landed"))
    assert len(joined) == 3000 and (joined[c.label] == joined[f"{c.label}_landed"]).all()


def test_a_retrainings_label_check_tells_a_moved_concept_from_flipped_labels(trained_copy, tmp_path):
    """A drift-triggered retraining judges its new rows by a model fit on them, against the reference at
    their positive rate: a concept shift (labels follow new rules) passes, flipped labels are stopped."""
    import pytest

    from accelops.data.generator import continuing_customers
    from accelops.errors import LabelQualityError
    from accelops.pipeline import stages

    params = trained_copy.params
    g, c = params.generate, params.dataset
    customers = continuing_customers(3000, 7, g.rows, g.days)
    # the second retraining's previous input is the first's data: its rows come a week later
    for scenario, start, severity, stopped in (("concept_drift", "2026-08-01", 1.0, False),
                                               ("label_noise", "2026-08-09", 2.0, True)):
        batch = tmp_path / f"{scenario}.parquet"
        generate(3000, 7, start, seed=31, scenario=scenario, severity=severity,
                 customers=customers).frame.to_parquet(batch)
        data = batch_stages.retraining_data(params, [batch])
        if stopped:
            with pytest.raises(LabelQualityError, match=r"the 3000 rows after .* by a model fit on them"):
                stages.validate(params, Path(data.path), data.new_after)
            continue
        report = stages.validate(params, Path(data.path), data.new_after)
        check = report.label_quality
        assert check.rows == 3000 and check.scope.startswith("the 3000 rows after") and check.excess <= 0.03
