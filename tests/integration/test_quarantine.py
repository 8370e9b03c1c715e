"""Failing rows are quarantined (nothing lost), the policy decides whether the rest continues."""

import json

import pandas as pd
import pytest

from accelops.errors import DataValidationError, PiiDetectedError
from accelops.pipeline import stages
from helpers import write_params


def _bad_batch(frame, path):
    bad = frame.copy()
    bad.loc[:9, "plan"] = "platinum"                     # 10 rows outside the category set
    bad.loc[10:14, "satisfaction_score"] = 9.0           # 5 rows out of range
    bad.to_parquet(path)
    return bad


def test_reject_policy_quarantines_rows_and_stops(tmp_path, small_frame):
    from accelops.config import load_params

    params = load_params(write_params(tmp_path))
    _bad_batch(small_frame, params.layout.history)
    with pytest.raises(DataValidationError, match="column plan"):
        stages.validate(params)
    assert not params.layout.validated.exists()
    report = json.loads((params.layout.reports / "validation.json").read_text())
    q = report["quarantine"]
    assert q["quarantined_rows"] == 15 and q["per_rule"] == {"plan:set": 10, "satisfaction_score:range": 5}
    rows = pd.read_parquet(q["rows_file"])
    assert len(rows) == 15 and set(rows["__failed_rules"]) == {"plan:set", "satisfaction_score:range"}
    assert "platinum" not in json.dumps(report)          # the summary holds counts, the rows file holds rows


def test_partial_policy_continues_with_the_passing_rows(tmp_path, small_frame):
    from accelops.config import load_params

    params = load_params(write_params(tmp_path, validate={"on_failure": "partial", "max_rejected_fraction": 0.01}))
    _bad_batch(small_frame, params.layout.history)
    stages.reference(params)                     # profiled from the rows that pass the contract's row rules
    out = stages.validate(params)
    assert out.partial_acceptance and out.accepted_rows == len(small_frame) - 15
    validated = pd.read_parquet(params.layout.validated)
    assert set(validated["plan"]) <= {"basic", "standard", "premium"}


def test_partial_policy_still_rejects_too_many_bad_rows_or_table_problems(tmp_path, small_frame):
    from accelops.config import load_params

    params = load_params(write_params(tmp_path, validate={"on_failure": "partial", "max_rejected_fraction": 0.001}))
    _bad_batch(small_frame, params.layout.history)
    with pytest.raises(DataValidationError):
        stages.validate(params)
    params2 = load_params(write_params(tmp_path / "b", validate={"on_failure": "partial"}))
    small_frame.head(20).to_parquet(params2.layout.history)        # below min_rows: a table-level rule
    with pytest.raises(DataValidationError, match="row_count"):
        stages.validate(params2)


def test_undeclared_pii_blocks_before_anything_is_written(tmp_path, small_frame, params):
    pd.DataFrame(small_frame).assign(backup_email=small_frame["email"]).to_parquet(params.layout.history)
    with pytest.raises(PiiDetectedError, match="column backup_email: email"):
        stages.validate(params)
    report = json.loads((params.layout.reports / "validation.json").read_text())
    assert report["pii_scan"]["undeclared"][0]["column"] == "backup_email"
    assert report["quarantine"] is None and not params.layout.validated.exists()
    assert "@example.com" not in json.dumps(report)


def test_flipped_labels_are_blocked_against_the_reference(tmp_path):
    from accelops.config import load_params
    from accelops.data.generator import generate, write
    from accelops.errors import LabelQualityError

    params = load_params(write_params(tmp_path, validate={"label_folds": 3}))
    write(generate(6000, 60, "2026-06-01", 4, "none"), params.layout.history)
    assert stages.reference(params).recomputed
    first = stages.validate(params)
    assert first.label_quality.excess == 0.0                # the reference data checked against itself
    assert (params.layout.reports / "label_issues.parquet").exists()
    write(generate(6000, 60, "2026-06-01", 4, "label_noise", severity=2.0), params.layout.history)
    with pytest.raises(LabelQualityError, match=r"likely label errors in .* over the reference data"):
        stages.validate(params)
    issues = pd.read_parquet(params.layout.reports / "label_issues.parquet")
    assert list(issues.columns) == ["customer_id", "event_timestamp", "churned"]   # keys only, no PII
