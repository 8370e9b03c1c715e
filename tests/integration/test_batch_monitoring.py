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
