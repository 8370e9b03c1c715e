"""The validate stage with the real tools: what it lets through, what it stops, what it writes."""

import json

import pandas as pd
import pytest

from accelops.errors import DataValidationError, StageInputMissing
from accelops.pipeline import stages


def test_accepted_history_is_written_without_pii(trained):
    params, out = trained.params, trained.out
    lay = params.layout
    assert lay.validated.exists() and lay.validation_report.exists()
    assert out["validate"].rows == params.generate.rows
    validated = pd.read_parquet(lay.validated)
    assert len(validated) == params.generate.rows
    assert not set(params.dataset.pii) & set(validated.columns)


def test_first_history_becomes_the_reference(trained):
    lay = trained.params.layout
    assert lay.reference_profile.exists() and trained.out["reference"].recomputed
    assert trained.out["reference"].rows == trained.params.generate.rows


def test_bad_batch_stops_before_training(params):
    from accelops.data.generator import generate, write

    write(generate(2000, 10, "2026-06-01", 1, "new_category"), params.layout.history)
    with pytest.raises(DataValidationError, match="column channel: expect_column_values_to_be_in_set"):
        stages.validate(params)
    assert not params.layout.validated.exists()
    report = json.loads(params.layout.validation_report.read_text())
    assert report["success"] is False
    # the same report as one self-contained page (MLflow's viewer renders Data Docs unstyled): the failed
    # rule in a table, inline style, nothing fetched from elsewhere
    page = params.layout.validation_html.read_text()
    assert "<h2>Validation of" in page and "REJECTED" in page and "<td>channel</td>" in page and "<style>" in page
    assert not any(ref in page for ref in ("http://", "https://", "<link", "<script", "src="))
    with pytest.raises(StageInputMissing, match="run the 'validate' stage first"):
        stages.features(params)


def test_accepted_retraining_data_becomes_the_history_the_next_run_reads(trained_copy):
    """One growing history: a drift retraining's data (history + landed rows), once validation accepts
    it, is what a run given no data trains on; a new paths.history starts over from that file."""
    from pathlib import Path

    from accelops.data.generator import continuing_customers, generate
    from accelops.pipeline import batch_stages, history

    params = trained_copy.params
    lay = params.layout
    assert history.current(params) == lay.history and not lay.history_pointer.exists()
    g, m = params.generate, params.monitor
    end = pd.read_parquet(lay.history)[params.dataset.timestamp].max() + pd.Timedelta(seconds=1)
    batch = lay.workdir / "landed.parquet"
    generate(2000, 7, end.isoformat(), seed=g.seed + 5,
             customers=continuing_customers(2000, 7, g.rows, g.days)).frame.to_parquet(batch)
    data = batch_stages.retraining_data(params, [batch])
    stages.validate(params, None)                                    # a plain run: the history stays
    assert not lay.history_pointer.exists()
    stages.validate(params, Path(data.path), data.new_after)        # the retraining's data, accepted
    assert history.current(params) == Path(data.path).resolve()
    record = history.CurrentHistory.model_validate_json(lay.history_pointer.read_text())
    assert record.rows == data.rows and record.base == str(lay.history)
    again = batch_stages.retraining_data(params, [batch])           # the next retraining grows from it
    assert again.previous == str(Path(data.path).resolve()) and again.rows == data.rows
    pd.read_parquet(lay.history).head(500).to_parquet(lay.history)  # new raw data: start over from it
    assert history.current(params) == lay.history
