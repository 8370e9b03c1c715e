"""Rules derived from the reference profile, severities, timestamps, near-duplicates, provenance
and Data Docs: each behaviour shown on real Great Expectations runs over small frames."""

import json

import numpy as np
import pandas as pd
import pytest

from accelops.data import io
from accelops.errors import DataValidationError
from accelops.validation import batch_check
from accelops.validation.expectations import run_suite, suite_version
from accelops.validation.profile import build_profile, slice_support


@pytest.fixture
def profile(small_frame, params):
    return build_profile(small_frame, params.dataset, "reference.parquet")


def _run(df, params, profile=None, **validate):
    rules = params.validate_.model_copy(update=validate) if validate else params.validate_
    return run_suite(io.conform(df, params.dataset, "b.parquet"), params.dataset, rules, "b.parquet", profile)


def _checks(failures):
    return {(f["column"], f["rule"], f["severity"]) for f in failures}


def test_reference_profile_bounds_are_warnings_by_default_and_errors_on_request(small_frame, params, profile):
    assert _run(small_frame, params, profile).warnings == []           # the reference passes its own bounds
    shifted = small_frame.copy()
    shifted["monthly_charges"] = shifted["monthly_charges"] * 1.6
    report = _run(shifted, params, profile)
    assert report.success                                              # warnings don't block
    assert ("monthly_charges", "expect_column_numeric_mean_to_be_between", "warning") in _checks(report.warnings)
    assert ("monthly_charges", "expect_column_values_to_be_between", "warning") in _checks(report.warnings)
    strict = params.validate_.severity.model_copy(update={"reference_bounds": "error"})
    blocked = _run(shifted, params, profile, severity=strict)
    assert not blocked.success
    with pytest.raises(DataValidationError) as err:
        blocked.raise_for_failures()
    msg = str(err.value)
    mean = profile["numeric"]["monthly_charges"]["mean"]
    assert "column monthly_charges: expect_column_numeric_mean_to_be_between: observed" in msg and "min_value" in msg
    observed = next(f for f in blocked.failures if f["rule"] == "expect_column_numeric_mean_to_be_between")
    assert observed["expected"]["min_value"] < mean < observed["expected"]["max_value"]


def test_class_balance_is_bounded_by_the_reference_rate(small_frame, params, profile):
    flipped = small_frame.copy()
    flipped.loc[flipped.index[: len(flipped) // 3], "churned"] = 1
    report = _run(flipped, params, profile)
    assert ("churned", "expect_column_numeric_mean_to_be_between", "warning") in _checks(report.warnings)


def test_future_and_too_old_timestamps_block(small_frame, params):
    future = small_frame.copy()
    future.loc[future.index[0], "event_timestamp"] = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=2)
    assert ("event_timestamp", "expect_column_max_to_be_between", "error") in _checks(_run(future, params).failures)
    old = small_frame.copy()
    old.loc[old.index[0], "event_timestamp"] = pd.Timestamp("2001-01-01", tz="UTC")
    assert ("event_timestamp", "expect_column_min_to_be_between", "error") in _checks(_run(old, params).failures)


def test_unseen_category_severity_decides_between_blocking_and_reporting(small_frame, params):
    odd = small_frame.copy()
    odd.loc[odd.index[:5], "channel"] = "marketplace"
    assert ("channel", "expect_column_values_to_be_in_set", "error") in _checks(_run(odd, params).failures)
    lenient = params.validate_.severity.model_copy(update={"unseen_category": "warning"})
    report = _run(odd, params, severity=lenient)
    assert report.success and ("channel", "expect_column_values_to_be_in_set", "warning") in _checks(report.warnings)


def test_near_duplicates_row_count_bounds_and_thin_slices(small_frame, params):
    dup = small_frame.copy()
    copies = dup.sample(200, random_state=0).copy()
    copies["customer_id"] = copies["customer_id"] + 10**7                # new keys, same features and label
    dup = pd.concat([dup, copies], ignore_index=True)
    report = _run(dup, params)
    near = [f for f in report.warnings if f["check"] == "near_duplicates"]
    assert near and near[0]["unexpected_count"] >= 200 and near[0]["columns"] == []
    too_many = _run(small_frame, params, max_rows=1000)
    assert ("expect_table_row_count_to_be_between", "error") in {(f["rule"], f["severity"]) for f in too_many.failures}
    thin = slice_support(small_frame[small_frame["region"] != "west"], params.dataset, 50)
    assert {"slice": "region", "value": "west", "rows": 0, "minimum": 50} in thin


def test_provenance_suite_version_and_data_docs(small_frame, params, profile, tmp_path):
    path = tmp_path / "batch.parquet"
    io.write_parquet(small_frame, path)
    df = io.conform(io.read_table(path), params.dataset, path)
    checked = batch_check.check(df, params, str(path), tmp_path / "q", docs_dir=tmp_path / "docs")
    from accelops.hashing import file_sha256

    assert checked.provenance.source_sha256 == file_sha256(path)
    assert checked.provenance.suite_version == suite_version(params.dataset, params.validate_, None)
    assert suite_version(params.dataset, params.validate_, profile) != checked.provenance.suite_version
    stricter = params.validate_.model_copy(update={"max_null_fraction": 0.0})
    assert suite_version(params.dataset, stricter, None) != checked.provenance.suite_version
    docs = (tmp_path / "docs" / "index.html").read_text()
    assert "churn" in docs.lower() and checked.report.data_docs.endswith("index.html")
    assert list((tmp_path / "docs").rglob("validations/**/*.html"))
    report = json.loads(checked.summary().model_dump_json())
    assert report["data_quality"]["class_balance"]["positive_rate"] == pytest.approx(small_frame["churned"].mean())
