"""A catalogue of malformed and bad inputs: each stops the training flow with a named error that
names the file (and the column and rule where there is one); the champion and registry stay put."""

import pandas as pd
import pytest

from accelops.errors import AccelopsError, DataFormatError, DataValidationError, PiiDetectedError
from accelops.training.model_folder import WEIGHTS
from helpers import copy_project


def _frame():
    from accelops.data.generator import generate

    return generate(1500, 30, "2026-06-01", seed=9).frame


def _parquet(df, path):
    df.to_parquet(path)
    return path


def _mutate(fn):
    def make(path):
        df = _frame()
        fn(df)
        return _parquet(df, path.with_suffix(".parquet"))
    return make


def _mutate_csv(fn):
    def make(path):
        df = _frame()
        fn(df)
        path = path.with_suffix(".csv")
        df.to_csv(path, index=False)
        return path
    return make


def _truncated(path):
    full = _parquet(_frame(), path.with_suffix(".full.parquet")).read_bytes()
    path = path.with_suffix(".parquet")
    path.write_bytes(full[: len(full) // 2])
    return path


def _csv(path, **kw):
    path = path.with_suffix(".csv")
    _frame().to_csv(path, index=False, **kw)
    return path


CASES = {
    "empty file": (lambda p: (p.with_suffix(".parquet").write_bytes(b""), p.with_suffix(".parquet"))[1],
                   DataFormatError, "file is empty"),
    "missing file": (lambda p: p.with_suffix(".parquet"), DataFormatError, "file not found"),
    "truncated parquet": (_truncated, DataFormatError, "cannot be read as parquet"),
    "garbage bytes": (lambda p: (p.with_suffix(".parquet").write_bytes(b"\x00PK\x03garbage" * 50),
                                 p.with_suffix(".parquet"))[1], DataFormatError, "cannot be read as parquet"),
    "unsupported type": (lambda p: (p.with_suffix(".xlsx").write_bytes(b"x"), p.with_suffix(".xlsx"))[1],
                         DataFormatError, "unsupported file type"),
    "wrong delimiter": (lambda p: _csv(p, sep=";"), DataFormatError, "wrong delimiter"),
    "wrong encoding": (lambda p: _csv(p, encoding="utf-16"), DataFormatError, "not UTF-8"),
    "header only": (lambda p: (_frame().head(0).to_csv(p.with_suffix(".csv"), index=False), p.with_suffix(".csv"))[1],
                    DataFormatError, "no rows"),
    "missing column": (_mutate(lambda d: d.drop(columns=["plan"], inplace=True)), DataFormatError, "['plan']"),
    "extra column": (_mutate(lambda d: d.insert(3, "campaign", "spring")), DataValidationError,
                     "expect_table_columns_to_match_set: unexpected column(s) ['campaign']"),
    "text in numeric": (_mutate_csv(lambda d: d.__setitem__("tenure_months", d["tenure_months"].astype(object)
                                                        .where(d.index > 0, "ten"))),
                        DataFormatError, "column tenure_months: expected numbers"),
    "bad timestamp": (_mutate(lambda d: d.__setitem__("event_timestamp", d["event_timestamp"].astype(str)
                                                      .where(d.index > 0, "yesterday"))),
                      DataFormatError, "column event_timestamp: not a timestamp"),
    "out of range": (_mutate(lambda d: d.loc.__setitem__((slice(0, 4), "satisfaction_score"), 9.0)),
                     DataValidationError, "column satisfaction_score: expect_column_values_to_be_between"),
    "negative value": (_mutate(lambda d: d.loc.__setitem__((slice(0, 4), "tenure_months"), -3.0)),
                       DataValidationError, "column tenure_months: expect_column_values_to_be_between"),
    "unknown category": (_mutate(lambda d: d.loc.__setitem__((slice(0, 99), "channel"), "marketplace")),
                         DataValidationError, "column channel: expect_column_values_to_be_in_set"),
    "null spike": (_mutate(lambda d: d.loc.__setitem__((slice(0, 299), "data_usage_gb"), None)),
                   DataValidationError, "column data_usage_gb: expect_column_values_to_not_be_null"),
    "null entity id": (_mutate(lambda d: d.__setitem__("customer_id", d["customer_id"].astype("Int64")
                                                       .where(d.index > 2))),
                       DataValidationError, "column customer_id: expect_column_values_to_not_be_null"),
    "duplicate keys": (_mutate(lambda d: d.loc.__setitem__((slice(1, 1), ["customer_id", "event_timestamp"]),
                                                           d.loc[[0], ["customer_id", "event_timestamp"]].to_numpy())),
                       DataValidationError, "column customer_id,event_timestamp: expect_compound_columns_to_be_unique"),
    "label out of set": (_mutate(lambda d: d.loc.__setitem__((slice(0, 9), "churned"), 2)),
                         DataValidationError, "column churned: expect_column_values_to_be_in_set"),
    "null labels": (_mutate(lambda d: d.__setitem__("churned", d["churned"].astype(float).where(d.index > 9))),
                    DataValidationError, "column churned: expect_column_values_to_not_be_null"),
    "a single label class": (_mutate(lambda d: d.__setitem__("churned", 0)), DataValidationError,
                             "column churned: training data needs both label classes: 1 class(es): [0]"),
    "too few rows": (lambda p: _parquet(_frame().head(20), p.with_suffix(".parquet")), DataValidationError,
                     "expect_table_row_count_to_be_between"),
    "event in the future": (_mutate(lambda d: d.loc.__setitem__(
        (slice(0, 0), "event_timestamp"), pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=3))),
        DataValidationError, "column event_timestamp: expect_column_max_to_be_between"),
    "event older than the window": (_mutate(lambda d: d.loc.__setitem__(
        (slice(0, 0), "event_timestamp"), pd.Timestamp("2019-01-01", tz="UTC"))),
        DataValidationError, "column event_timestamp: expect_column_min_to_be_between"),
    "undeclared PII column": (_mutate(lambda d: d.insert(3, "backup_contact", d["email"])), PiiDetectedError,
                              "column backup_contact: email"),
    "PII inside a feature": (_mutate(lambda d: d.__setitem__("channel", d["email"])), PiiDetectedError,
                             "column channel: email"),
}


@pytest.fixture(scope="module")
def project(_trained_project, tmp_path_factory):
    """A copy of the session's trained project (a champion in the registry) that these flows run on:
    the rejected batches' reports and quarantine files land in the copy."""
    return copy_project(_trained_project, tmp_path_factory.mktemp("bad_inputs") / "project")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_the_flow_with_a_named_error(case, project, tmp_path):
    from accelops.registry.status import collect
    from accelops_flows.training import training_flow

    path, params = project.path, project.params
    make, error, fragment = CASES[case]
    bad = make(tmp_path / case.replace(" ", "_"))
    before = collect(params)
    model_mtime = (params.layout.model_dir / WEIGHTS).stat().st_mtime
    with pytest.raises(AccelopsError) as err:
        training_flow(data=str(bad), params_path=str(path), reason=f"bad input: {case}")
    assert isinstance(err.value, error), f"{case}: {type(err.value).__name__}: {err.value}"
    msg = str(err.value)
    assert str(bad.name) in msg and fragment in msg, msg
    after = collect(params)
    assert after["champion"] == before["champion"] and after["versions"] == before["versions"]
    assert (params.layout.model_dir / WEIGHTS).stat().st_mtime == model_mtime
    summary = (params.layout.reports / "last_failure.md").read_text()      # the failure hook's summary
    assert summary.startswith("# training run ") and type(err.value).__name__ in summary and bad.name in summary
    from accelops.registry import tracking

    client = tracking.connect(params)
    (last,) = client.search_runs([client.get_experiment_by_name(params.register_.experiment).experiment_id],
                                 order_by=["attributes.start_time DESC"], max_results=1)
    assert last.info.status == "FAILED" and last.data.tags["trigger"] == f"bad input: {case}"
    assert last.data.tags["mlflow.note.content"].startswith("Failed in stage ")
