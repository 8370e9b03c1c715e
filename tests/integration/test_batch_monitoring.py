"""A monitored batch is compared with the champion's own training set (kept under the content hash
recorded on its version), never with whatever the last features run left behind."""

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

    params = trained_copy.params
    batches = []
    for seed, scenario in ((6, "none"), (7, "slice_shift")):
        batches.append(tmp_path / f"{scenario}.parquet")
        write(generate(3000, 7, "2026-08-01", seed=seed, scenario=scenario), batches[-1])
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
