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
from accelops.fanout import Fanout
from accelops.validation import gx_parts

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
              result_format: dict | None = None, fan: Fanout | None = None) -> ValidationReport:
    """Validate a frame that already passed `io.conform`; never raises for failed rules.

    Default: a cheap pass-or-fail pass over the whole suite, then counts and observed values only
    for the rules that failed (bench/validation.py). With `docs_dir`: one BASIC pass whose Data
    Docs (index.html) are built there. `result_format` forces a single pass in that format. With a
    fan-out of several workers, the row-wise rules run per entity partition (accelops.validation.gx_parts:
    the same counts and decisions). Results are listed in the suite's order."""
    import great_expectations as gx

    rows = len(df)
    df = _suite_frame(df, contract)
    ctx, batch = context()
    expectations = build_expectations(contract, rules, profile, labelled=contract.label in df.columns)
    version = suite_version(contract, rules, profile)
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"{contract.name}_contract", expectations=expectations,
                                               meta={"suite_version": version}))
    order = {gx_parts.rule_key(e.configuration): i for i, e in reversed(list(enumerate(suite.expectations)))}
    split = fan is not None and fan.workers > 1 and rows > 0
    parted = [e for e in suite.expectations if split and gx_parts.per_part(e, contract.entity_id)]
    whole = suite if not parted else ctx.suites.add(gx.ExpectationSuite(
        name=f"{contract.name}_whole", expectations=[_expectation(e.configuration) for e in suite.expectations
                                                     if not any(e is p for p in parted)]))
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}_validation", data=batch, suite=whole))
    if docs_dir is not None:              # one BASIC pass, rendered: every rule with its observation
        run = _run_with_docs(ctx, definition, df, result_format or RESULT_FORMAT, Path(docs_dir), not parted)
        results = run.results
    elif result_format is not None or parted:
        results = definition.run(batch_parameters={"dataframe": df}, result_format=result_format or RESULT_FORMAT).results
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
    if parted:
        results = [*results, *gx_parts.run_parts(fan, df, contract.entity_id, parted, result_format or RESULT_FORMAT)]
    results = sorted(results, key=lambda r: order[gx_parts.rule_key(r.expectation_config)])
    if parted and docs_dir is not None:   # the Data Docs of the merged results, as one run of the whole suite
        _render_docs(ctx, suite, run, results)
    described = [_describe(r) for r in results if not r.success]
    failures = [f for f in described if f["severity"] == "error"]
    warnings = [f for f in described if f["severity"] == "warning"]
    return ValidationReport(source=source, rows=rows, success=not failures, evaluated=len(results),
                            failures=failures, warnings=warnings, suite_version=version,
                            data_docs=str(Path(docs_dir) / "index.html") if docs_dir else None)


def context():
    """An ephemeral Great Expectations context (no progress bars) and a batch definition of a whole frame."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = ctx.data_sources.add_pandas("batch").add_dataframe_asset("frame") \
        .add_batch_definition_whole_dataframe("whole")
    return ctx, batch


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


def _run_with_docs(ctx, definition, df: pd.DataFrame, fmt: dict, docs_dir: Path, render: bool = True):
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx.add_data_docs_site(site_name="accelops", site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    checkpoint = ctx.checkpoints.add(gx.Checkpoint(name="accelops", validation_definitions=[definition],
                                                   actions=[UpdateDataDocsAction(name="data_docs")] if render else [],
                                                   result_format=fmt))
    run = checkpoint.run(batch_parameters={"dataframe": df})
    return next(iter(run.run_results.values()))


def _render_docs(ctx, suite, run, results: list) -> None:
    """Data Docs for results merged from several runs: stored as one validation of the whole suite (the
    whole-frame run's batch and time), then the site built for it."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    passed = sum(bool(r.success) for r in results)
    merged = ExpectationSuiteValidationResult(
        success=all(r.success for r in results), results=results, suite_name=suite.name, meta=run.meta,
        batch_id=run.batch_id, statistics={"evaluated_expectations": len(results), "successful_expectations": passed,
                                           "unsuccessful_expectations": len(results) - passed,
                                           "success_percent": 100.0 * passed / len(results) if results else None})
    suite_id = ExpectationSuiteIdentifier(name=suite.name)
    result_id = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run.meta["run_id"],
                                           batch_identifier=run.batch_id)
    ctx.validation_results_store.set(result_id, merged)
    ctx.build_data_docs(site_names=["accelops"], resource_identifiers=[result_id, suite_id])


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
