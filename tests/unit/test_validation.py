import json
import re

import numpy as np
import pandas as pd
import pytest

from accelops.data import io
from accelops.errors import DataFormatError, DataValidationError
from accelops.validation.expectations import run_suite
from accelops.validation.pii import protect
from helpers import PartsInProcess


def _run(df, params, source="batch.parquet"):
    return run_suite(io.conform(df, params.dataset, source), params.dataset, params.validate_, source)


def test_clean_data_is_accepted(small_frame, params):
    report = _run(small_frame, params)
    assert report.success, report.failures
    assert report.evaluated >= 40 and report.rows == len(small_frame)


def test_failures_name_column_rule_and_observation_without_copying_values(small_frame, params):
    bad = small_frame.copy()
    bad.loc[:9, "plan"] = "platinum"
    bad.loc[:199, "data_usage_gb"] = np.nan                 # 5% nulls > 2% tolerated
    bad.loc[0, "satisfaction_score"] = 9                     # outside [1, 5]
    bad.loc[1, ["customer_id", "event_timestamp"]] = bad.loc[2, ["customer_id", "event_timestamp"]].to_numpy()
    bad.loc[3, "email"] = "canary.person@leak.example"       # raw PII must never be copied
    report = _run(bad, params)
    assert not report.success
    failed = {(f["column"] or ",".join(f["columns"]), f["rule"]) for f in report.failures}
    assert ("plan", "expect_column_values_to_be_in_set") in failed
    assert ("data_usage_gb", "expect_column_values_to_not_be_null") in failed
    assert ("satisfaction_score", "expect_column_values_to_be_between") in failed
    assert ("customer_id,event_timestamp", "expect_compound_columns_to_be_unique") in failed
    with pytest.raises(DataValidationError) as err:
        report.raise_for_failures()
    msg = str(err.value)
    assert "batch.parquet" in msg and "column plan" in msg and "10 of 4000 rows" in msg
    dumped = report.model_dump_json()
    assert "platinum" not in dumped        # unexpected values are counted, never listed
    assert "canary.person" not in dumped


@pytest.mark.parametrize("docs", [False, True])
def test_row_wise_rules_per_entity_partition_give_the_whole_frames_report(small_frame, params, tmp_path, docs):
    """The suite with its row-wise rules run per entity partition (the validate stage on Dask) and their counts
    summed: the same failures, warnings, counts and percentages as one pass over the whole frame, and Data
    Docs that show every rule."""
    bad = small_frame.copy()
    bad.loc[:9, "plan"] = "platinum"
    bad.loc[:199, "data_usage_gb"] = np.nan                 # over the null tolerance: a mostly rule fails
    bad.loc[300:309, "support_tickets"] = np.nan             # under it: passes with nulls counted
    bad.loc[0, "satisfaction_score"] = 9
    bad.loc[1, ["customer_id", "event_timestamp"]] = bad.loc[2, ["customer_id", "event_timestamp"]].to_numpy()
    bad.loc[4:5, "customer_id"] = None
    df = io.conform(bad, params.dataset, "batch.parquet")
    c, v = params.dataset, params.validate_
    folder = {name: tmp_path / name if docs else None for name in ("whole", "parts")}
    whole = run_suite(df, c, v, "batch.parquet", docs_dir=folder["whole"])
    fan = PartsInProcess(3)
    parts = run_suite(df, c, v, "batch.parquet", docs_dir=folder["parts"], fan=fan)
    assert fan.pieces == 3
    assert parts.model_dump(exclude={"data_docs"}) == whole.model_dump(exclude={"data_docs"})
    assert len(whole.failures) >= 5 and whole.evaluated >= 40
    assert {f["rule"] for f in whole.failures} >= {"expect_column_values_to_be_in_set",
                                                   "expect_compound_columns_to_be_unique"}
    if docs:                                # the merged results rendered as one run: what a reader sees matches
        seen = {}
        for name in folder:
            (page,) = (tmp_path / name / "validations").rglob("*.html")
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text()))
            seen[name] = (re.findall(r"(?:Evaluated|Successful|Unsuccessful) Expectations \d+", text),
                          sorted(re.findall(r"\d+ unexpected values found", text)))
        assert seen["parts"] == seen["whole"] and len(seen["whole"][1]) >= 4
        assert seen["whole"][0][0] == f"Evaluated Expectations {whole.evaluated}"


def test_extra_and_missing_columns(small_frame, params):
    extra = small_frame.assign(notes="free text")
    report = _run(extra, params)
    assert any(f["rule"] == "expect_table_columns_to_match_set" for f in report.failures)
    with pytest.raises(DataFormatError, match=r"batch.csv: missing contract column\(s\) \['plan'\]"):
        io.conform(small_frame.drop(columns=["plan"]), params.dataset, "batch.csv")


@pytest.mark.parametrize("content, problem", [
    (b"", "file is empty"),
    (b"PAR1garbage", "cannot be read as parquet"),
])
def test_unreadable_parquet_files(tmp_path, content, problem):
    path = tmp_path / "x.parquet"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=problem) as err:
        io.read_table(path)
    assert str(path) in str(err.value)


def test_csv_with_wrong_delimiter_and_encoding(tmp_path, small_frame, params):
    path = tmp_path / "semi.csv"
    small_frame.head(20).to_csv(path, sep=";", index=False)
    with pytest.raises(DataFormatError, match="wrong delimiter"):
        io.conform(io.read_table(path), params.dataset, path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\nM\xfcller\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        io.read_table(latin)


def test_non_numeric_feature_is_named(tmp_path, small_frame, params):
    df = small_frame.head(50).astype({"tenure_months": object})
    df.loc[0, "tenure_months"] = "ten"
    with pytest.raises(DataFormatError, match="column tenure_months: expected numbers, 1 value"):
        io.conform(df, params.dataset, "b.parquet")


def test_pii_drop_and_keyed_hash(small_frame, params, tmp_path, monkeypatch):
    dropped = protect(small_frame, params.dataset.pii, params.pii, tmp_path / "k")
    assert not set(params.dataset.pii) & set(dropped.columns)
    hashed_params = params.pii.model_copy(update={"policy": "hash"})
    monkeypatch.setenv(params.pii.key_env, "k1")
    h1 = protect(small_frame, params.dataset.pii, hashed_params, tmp_path / "k")
    assert not h1["email"].isin(small_frame["email"]).any()
    assert h1["email"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert h1["email"].nunique() == small_frame["email"].nunique()   # deterministic per key
    monkeypatch.setenv(params.pii.key_env, "k2")
    h2 = protect(small_frame, params.dataset.pii, hashed_params, tmp_path / "k")
    assert not (h1["email"] == h2["email"]).any()                   # keyed: another key, other hashes
    monkeypatch.delenv(params.pii.key_env)
    key_file = tmp_path / "secrets" / "key"
    protect(small_frame.head(5), params.dataset.pii, hashed_params, key_file)
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_text_columns_read_as_arrow_strings_give_the_same_values_checks_and_hashes(tmp_path, small_frame, params,
                                                                                   monkeypatch, suffix):
    path = tmp_path / f"history{suffix}"
    frame = small_frame.head(600).copy()
    frame.loc[3, "email"] = None
    frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_csv(path, index=False)
    pii = params.dataset.pii
    plain = io.conform(io.read_table(path), params.dataset, path)
    arrow = io.conform(io.read_table(path, strings=pii), params.dataset, path)
    assert all(isinstance(arrow[c].dtype, pd.StringDtype) and arrow[c].dtype.storage == "pyarrow" for c in pii)
    assert list(arrow.columns) == list(plain.columns)
    pd.testing.assert_frame_equal(arrow.astype({c: object for c in pii}), plain)
    assert arrow["email"].isna().sum() == 1
    assert _run(arrow, params).model_dump() == _run(plain, params).model_dump()
    monkeypatch.setenv(params.pii.key_env, "k1")
    hashed = params.pii.model_copy(update={"policy": "hash"})
    pd.testing.assert_frame_equal(protect(arrow, pii, hashed, tmp_path / "k").astype({c: object for c in pii}),
                                  protect(plain, pii, hashed, tmp_path / "k"))
    some = io.read_table(path, columns=["customer_id", "email", "not_in_file"], strings=pii)
    assert list(some.columns) == ["customer_id", "email"]
