"""The data-quality gate every batch passes through (training input, monitoring batches, CLI):
PII scan of every column, the contract suite, quarantine of failing rows, and the failure policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from accelops.config import Params
from accelops.validation.expectations import ValidationReport, run_suite
from accelops.validation.pii_scan import PiiScan, scan
from accelops.validation.quarantine import row_failures, write_quarantine

ROW_LEVEL_RULES = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_between",
                   "expect_column_values_to_be_in_set", "expect_compound_columns_to_be_unique"}


@dataclass
class BatchCheck:
    report: ValidationReport
    pii: PiiScan
    quarantine: dict | None
    accepted: pd.DataFrame
    partial: bool = False

    def to_dict(self) -> dict:
        return {**self.report.to_dict(), "pii_scan": self.pii.to_dict(), "quarantine": self.quarantine,
                "accepted_rows": int(len(self.accepted)), "partial_acceptance": self.partial}

    def enforce(self) -> pd.DataFrame:
        """Raise the named error for a blocked batch; else return the rows that continue."""
        self.pii.raise_for_undeclared()
        if not self.report.success and not self.partial:
            self.report.raise_for_failures()
        return self.accepted


def check(df: pd.DataFrame, params: Params, source: str, quarantine_dir: Path) -> BatchCheck:
    """Never raises for data problems: call `.enforce()` (after writing the report) for that."""
    c, v = params.dataset, params.validate_
    pii = scan(df, [*c.pii, *c.text], source, v.pii_sample, v.pii_threshold)
    if pii.undeclared:   # nothing else is computed or written from a batch that carries stray PII
        return BatchCheck(ValidationReport(source, len(df), False, 0, []), pii, None, df.iloc[:0])
    report = run_suite(df, c, v, source)
    if report.success:
        return BatchCheck(report, pii, None, df)
    reasons = row_failures(df, c, report.failures)
    quarantine = write_quarantine(df, reasons, source, quarantine_dir)
    row_level = all(f["rule"] in ROW_LEVEL_RULES for f in report.failures)
    share = quarantine["quarantined_rows"] / max(len(df), 1)
    partial = v.on_failure == "partial" and row_level and share <= v.max_rejected_fraction
    accepted = df[(reasons == "").to_numpy()] if partial else df.iloc[:0]
    return BatchCheck(report, pii, quarantine, accepted, partial)


def write(check_: BatchCheck, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(check_.to_dict(), indent=2, default=str))
    return path
