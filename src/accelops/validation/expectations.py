"""A Great Expectations 1.x suite derived from the dataset contract and the reference profile, and
running it (optionally rendering Data Docs).

Each rule carries a severity from params (GE's own `severity`: critical = error, blocks the batch;
warning = reported). Results are reduced to counts and rates (result format BASIC with no
unexpected values), so no raw value, and therefore no PII, is ever copied into a report.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.config import Contract, ValidateParams
from accelops.errors import DataValidationError

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
GX_SEVERITY = {"error": "critical", "warning": "warning"}


class ValidationReport(BaseModel):
    """The suite's outcome on one batch; each failure or warning names its column, rule, severity,
    what was observed (counts, never values) and what was expected."""
    model_config = ConfigDict(extra="forbid")
    source: str
    rows: int
    success: bool                          # no error-severity rule failed
    evaluated: int
    failures: list[dict[str, Any]] = []    # error severity: these block
    warnings: list[dict[str, Any]] = []    # warning severity: reported only
    suite_version: str = ""
    data_docs: str | None = None

    def raise_for_failures(self) -> None:
        if not self.success:
            raise DataValidationError(self.source, self.failures)


def build_expectations(contract: Contract, rules: ValidateParams, profile: dict | None = None,
                       now: pd.Timestamp | None = None, labelled: bool = True) -> list:
    """Contract rules (columns, row count, nulls, ranges, category sets, label values, unique keys,
    timestamp window) plus, given a reference profile, mean / quantile / class-balance bounds.
    `labelled=False`: a batch to score whose labels land later (monitor.labels): every rule but the
    label's, and the label column must be absent."""
    import great_expectations as gx

    E = gx.expectations
    sev = {k: GX_SEVERITY[v] for k, v in rules.severity.model_dump().items()}
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    ts = contract.timestamp
    label = [contract.label] if labelled else []
    exps = [
        E.ExpectTableColumnsToMatchSet(column_set=[c for c in contract.columns if labelled or c != contract.label],
                                       exact_match=True),
        E.ExpectTableRowCountToBeBetween(min_value=rules.min_rows, max_value=rules.max_rows),
        E.ExpectCompoundColumnsToBeUnique(column_list=[contract.entity_id, ts]),
        *[E.ExpectColumnValuesToBeInSet(column=c, value_set=[0, 1]) for c in label],
        E.ExpectColumnMaxToBeBetween(column=ts, max_value=now + pd.Timedelta(minutes=rules.future_skew_minutes),
                                     severity=sev["timestamps"]),
        E.ExpectColumnMinToBeBetween(column=ts, min_value=now - pd.Timedelta(days=rules.timestamp_window_days),
                                     severity=sev["timestamps"]),
        E.ExpectCompoundColumnsToBeUnique(column_list=[*contract.feature_columns, *label],
                                          mostly=1.0 - rules.max_near_duplicate_fraction,
                                          severity=sev["near_duplicates"],
                                          meta={"check": "near_duplicates"}),
    ]
    for col in (contract.entity_id, ts, *label):
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col))
    mostly = 1.0 - rules.max_null_fraction
    for col, (lo, hi) in contract.numeric_features.items():
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly))
        if lo is not None or hi is not None:
            exps.append(E.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi))
    for col, values in contract.categorical_features.items():
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly))
        exps.append(E.ExpectColumnValuesToBeInSet(column=col, value_set=list(values), severity=sev["unseen_category"]))
    if profile and rules.reference_profile:
        exps += _reference_bounds(contract, rules, profile, sev, labelled)
    return exps


def _reference_bounds(contract: Contract, rules: ValidateParams, profile: dict, sev: dict,
                      labelled: bool = True) -> list:
    import great_expectations as gx

    from accelops.validation.gx_fast import ExpectColumnNumericMeanToBeBetween as Mean

    E = gx.expectations
    out = []
    for col, stats in profile["numeric"].items():
        if col not in contract.numeric_features or not stats["std"] == stats["std"]:   # skip NaN std
            continue
        m, s = stats["mean"], max(stats["std"], 1e-12)
        k, kq = rules.mean_shift_std * s, rules.quantile_shift_std * s
        out.append(Mean(column=col, min_value=m - k, max_value=m + k, severity=sev["reference_bounds"],
                        meta={"check": "reference"}))
        q05, _, q95 = stats["quantiles"]
        # quantile bound: at least 90% of values inside the reference 5-95% band widened by the margin.
        # (GE 1.24's quantile expectation cannot store its result: numpy bools in success_details; its
        # median scans every value for Decimal objects in Python: ~3 s per 1M rows per column)
        out.append(E.ExpectColumnValuesToBeBetween(column=col, min_value=q05 - kq, max_value=q95 + kq, mostly=0.9,
                                                   severity=sev["reference_bounds"], meta={"check": "reference"}))
    if not labelled:
        return out
    rate, tol = profile["label_rate"], rules.class_balance_tolerance
    out.append(Mean(column=contract.label, min_value=max(0.0, rate - tol), max_value=min(1.0, rate + tol),
                    severity=sev["class_balance"], meta={"check": "class_balance"}))
    return out


def suite_version(contract: Contract, rules: ValidateParams, profile: dict | None) -> str:
    """A content hash of what the suite is built from (contract, rules, reference profile), recorded
    with every run; the time window moves with 'now' but its definition is part of the rules."""
    from accelops.hashing import json_digest

    return json_digest({"contract": contract.model_dump(mode="json"), "rules": rules.model_dump(mode="json"),
                        "profile": profile if rules.reference_profile else None}, length=16)


def run_suite(df: pd.DataFrame, contract: Contract, rules: ValidateParams, source: str,
              profile: dict | None = None, docs_dir: Path | None = None,
              result_format: dict | None = None) -> ValidationReport:
    """Validate a frame that already passed `io.conform`; never raises for failed rules.

    Default: a cheap pass-or-fail pass over the whole suite, then counts and observed values only
    for the rules that failed (bench/validation.py). With `docs_dir`: one BASIC pass whose Data
    Docs (index.html) are built there. `result_format` forces a single pass in that format."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    rows = len(df)
    df = _suite_frame(df, contract)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = ctx.data_sources.add_pandas("batch").add_dataframe_asset("frame") \
        .add_batch_definition_whole_dataframe("whole")
    expectations = build_expectations(contract, rules, profile, labelled=contract.label in df.columns)
    version = suite_version(contract, rules, profile)
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"{contract.name}_contract", expectations=expectations,
                                               meta={"suite_version": version}))
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}_validation", data=batch, suite=suite))
    if docs_dir is not None:              # one BASIC pass, rendered: every rule with its observation
        results = _run_with_docs(ctx, definition, df, result_format or RESULT_FORMAT, Path(docs_dir)).results
    elif result_format is not None:
        results = definition.run(batch_parameters={"dataframe": df}, result_format=result_format).results
    else:                                  # cheap pass (pass/fail only), then counts for the failed rules
        results = definition.run(batch_parameters={"dataframe": df}, result_format={"result_format": "BOOLEAN_ONLY"}).results
        failed = [r.expectation_config for r in results if not r.success]
        if failed:
            detail = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"{contract.name}_failed", data=batch,
                suite=ctx.suites.add(gx.ExpectationSuite(name=f"{contract.name}_failed", expectations=[
                    _expectation(cfg) for cfg in failed]))))
            details = detail.run(batch_parameters={"dataframe": df}, result_format=RESULT_FORMAT).results
            results = [r for r in results if r.success] + list(details)
    described = [_describe(r) for r in results if not r.success]
    failures = [f for f in described if f["severity"] == "error"]
    warnings = [f for f in described if f["severity"] == "warning"]
    return ValidationReport(source=source, rows=rows, success=not failures, evaluated=len(results),
                            failures=failures, warnings=warnings, suite_version=version,
                            data_docs=str(Path(docs_dir) / "index.html") if docs_dir else None)


def _suite_frame(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The frame Great Expectations reads, in one consolidated copy: the categorical features as category
    dtype (its null, set and uniqueness metrics then work on integer codes instead of hashing Python
    strings: 1M rows 15.4 s -> 10.5 s, same results), and the PII and free-text columns as empty
    stand-ins of one byte a row. The suite reads only their names (the column-set rule; the PII scan
    reads their values), while GE copies the whole frame for each null-filtered column rule: with
    names, emails and phones that copy was most of validation's peak memory (~3.5 GB at 10M rows)."""
    empty = pd.Categorical.from_codes(np.full(len(df), -1, np.int8), categories=pd.Index([], dtype=object))
    stand_in = set(contract.pii) | set(contract.text)
    return pd.DataFrame({col: (pd.Series(empty, index=df.index) if col in stand_in else
                               df[col].astype("category") if col in contract.categorical_features else df[col])
                         for col in df.columns}, index=df.index)


def _expectation(config):
    """A fresh expectation from a result's configuration (same type, arguments, severity, meta)."""
    e = config.to_domain_obj()
    e.id = None
    return e


def _run_with_docs(ctx, definition, df: pd.DataFrame, fmt: dict, docs_dir: Path):
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx.add_data_docs_site(site_name="accelops", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    checkpoint = ctx.checkpoints.add(gx.Checkpoint(name="accelops", validation_definitions=[definition],
                                                   actions=[UpdateDataDocsAction(name="data_docs")],
                                                   result_format=fmt))
    run = checkpoint.run(batch_parameters={"dataframe": df})
    return next(iter(run.run_results.values()))


def _describe(r) -> dict:
    kw = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
    res = r.result or {}
    rule = r.expectation_config.type
    check = (r.expectation_config.meta or {}).get("check")
    if "unexpected_count" in res:
        observed = f"{res['unexpected_count']} of {res.get('element_count')} rows ({res.get('unexpected_percent', 0):.2f}%) violate"
    elif rule == "expect_table_columns_to_match_set" and isinstance(res.get("observed_value"), list):
        seen, expected_cols = set(res["observed_value"]), set(kw.get("column_set", []))
        observed = f"unexpected column(s) {sorted(seen - expected_cols)}, missing {sorted(expected_cols - seen)}"
        kw = {"column_set": "the dataset contract's columns"}
    elif "observed_value" in res:
        observed = f"observed {_plain(res['observed_value'])!r}"
    else:
        observed = "failed"
    if r.exception_info and r.exception_info.get("raised_exception"):
        observed = f"could not be evaluated: {r.exception_info.get('exception_message')}"
    if check == "near_duplicates":
        kw = {"mostly": kw.get("mostly")}            # don't echo the whole feature list
    expected = {k: _plain(v) for k, v in kw.items() if k not in {"column", "column_list"}}
    severity = "warning" if str(r.expectation_config.severity).lower().endswith("warning") else "error"
    return {"column": kw.get("column"), "columns": [] if check == "near_duplicates" else kw.get("column_list", []),
            "rule": rule, "check": check, "severity": severity, "observed": observed,
            "expected": expected or "no violations", "unexpected_count": res.get("unexpected_count")}


def _plain(v):
    """JSON-friendly numbers and timestamps for reports."""
    if isinstance(v, (pd.Timestamp, datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v
