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
    with pytest.raises(StageInputMissing, match="run the 'validate' stage first"):
        stages.features(params)
