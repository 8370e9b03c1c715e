"""A Great Expectations 1.x suite derived from the dataset contract, and running it.

Results are reduced to counts and rates (result format BASIC with no unexpected values),
so no raw value, and therefore no PII, is ever copied into a report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import pandas as pd

from accelops.config import DatasetParams, ValidateParams
from accelops.errors import DataValidationError

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


@dataclass
class ValidationReport:
    source: str
    rows: int
    success: bool
    evaluated: int
    failures: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def raise_for_failures(self) -> None:
        if not self.success:
            raise DataValidationError(self.source, self.failures)


def build_expectations(contract: DatasetParams, rules: ValidateParams) -> list:
    """The suite: columns, row count, nulls, ranges, category sets, label values, unique keys."""
    import great_expectations as gx

    E = gx.expectations
    exps = [
        E.ExpectTableColumnsToMatchSet(column_set=contract.columns, exact_match=True),
        E.ExpectTableRowCountToBeBetween(min_value=rules.min_rows),
        E.ExpectCompoundColumnsToBeUnique(column_list=[contract.entity_id, contract.timestamp]),
        E.ExpectColumnValuesToBeInSet(column=contract.label, value_set=[0, 1]),
    ]
    for col in (contract.entity_id, contract.timestamp, contract.label):
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col))
    mostly = 1.0 - rules.max_null_fraction
    for col, (lo, hi) in contract.numeric_features.items():
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly))
        if lo is not None or hi is not None:
            exps.append(E.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi))
    for col, values in contract.categorical_features.items():
        exps.append(E.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly))
        exps.append(E.ExpectColumnValuesToBeInSet(column=col, value_set=list(values)))
    return exps


def run_suite(df: pd.DataFrame, contract: DatasetParams, rules: ValidateParams, source: str) -> ValidationReport:
    """Validate a frame that already passed `io.conform`; never raises for failed rules."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = ctx.data_sources.add_pandas("batch").add_dataframe_asset("frame") \
        .add_batch_definition_whole_dataframe("whole")
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"{contract.name}_contract",
                                               expectations=build_expectations(contract, rules)))
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}_validation", data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": df}, result_format=RESULT_FORMAT)
    failures = [_describe(r) for r in result.results if not r.success]
    return ValidationReport(source=source, rows=len(df), success=bool(result.success),
                            evaluated=len(result.results), failures=failures)


def _describe(r) -> dict:
    kw = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
    res = r.result or {}
    rule = r.expectation_config.type
    if "unexpected_count" in res:
        observed = f"{res['unexpected_count']} of {res.get('element_count')} rows ({res.get('unexpected_percent', 0):.2f}%) violate"
    elif rule == "expect_table_columns_to_match_set" and isinstance(res.get("observed_value"), list):
        seen, expected_cols = set(res["observed_value"]), set(kw.get("column_set", []))
        observed = f"unexpected column(s) {sorted(seen - expected_cols)}, missing {sorted(expected_cols - seen)}"
        kw = {"column_set": "the dataset contract's columns"}
    elif "observed_value" in res:
        observed = f"observed {res['observed_value']!r}"
    else:
        observed = "failed"
    if r.exception_info and r.exception_info.get("raised_exception"):
        observed = f"could not be evaluated: {r.exception_info.get('exception_message')}"
    expected = {k: v for k, v in kw.items() if k not in {"column", "column_list"}}
    return {"column": kw.get("column"), "columns": kw.get("column_list", []), "rule": rule,
            "observed": observed, "expected": expected or "no violations",
            "unexpected_count": res.get("unexpected_count")}
