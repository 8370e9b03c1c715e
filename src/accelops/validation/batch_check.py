"""The data-quality gate every batch passes through (training input, monitoring batches, CLI):
PII scan of every column, the suite (contract + reference-profile bounds, each rule an error or a
warning), quarantine of rows failing error rules, the failure policy, and provenance (the input's
content hash and the suite version) with data-quality facts (class balance, near-duplicates,
thinly populated slices)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from accelops.config import Params
from accelops.validation import profile as profiles
from accelops.validation.expectations import ValidationReport, run_suite, suite_version
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
    provenance: dict | None = None
    quality: dict | None = None

    def to_dict(self) -> dict:
        return {**self.report.to_dict(), "pii_scan": self.pii.to_dict(), "quarantine": self.quarantine,
                "accepted_rows": int(len(self.accepted)), "partial_acceptance": self.partial,
                "provenance": self.provenance, "data_quality": self.quality}

    def enforce(self) -> pd.DataFrame:
        """Raise the named error for a blocked batch; else return the rows that continue."""
        self.pii.raise_for_undeclared()
        if not self.report.success and not self.partial:
            self.report.raise_for_failures()
        return self.accepted


def check(df: pd.DataFrame, params: Params, source: str, quarantine_dir: Path,
          docs_dir: Path | None = None) -> BatchCheck:
    """Never raises for data problems: call `.enforce()` (after writing the report) for that.
    The reference profile (params.layout.reference_profile) adds its bounds once it exists;
    `docs_dir` renders Great Expectations' Data Docs for the run there."""
    c, v = params.dataset, params.validate_
    profile = profiles.load(params.layout.reference_profile) if v.reference_profile else None
    provenance = {"source": str(source), "source_sha256": _sha256(source),
                  "suite_version": suite_version(c, v, profile),
                  "reference_profile": profile and profiles.digest(profile)}
    pii = scan(df, [*c.pii, *c.text], source, v.pii_sample, v.pii_threshold)
    if pii.undeclared:   # nothing else is computed or written from a batch that carries stray PII
        report = ValidationReport(source, len(df), False, 0, [], suite_version=provenance["suite_version"])
        return BatchCheck(report, pii, None, df.iloc[:0], provenance=provenance)
    report = run_suite(df, c, v, source, profile, docs_dir)
    quality = {"class_balance": profiles.class_balance(df, c) if c.label in df else None,
               "near_duplicate_rows": profiles.near_duplicates(df, c),
               "low_support_slices": profiles.slice_support(df, c, v.min_slice_rows),
               "warnings": len(report.warnings)}
    if report.success:
        return BatchCheck(report, pii, None, df, provenance=provenance, quality=quality)
    reasons = row_failures(df, c, report.failures)
    quarantine = write_quarantine(df, reasons, source, quarantine_dir)
    row_level = all(f["rule"] in ROW_LEVEL_RULES and f.get("check") != "reference" for f in report.failures)
    share = quarantine["quarantined_rows"] / max(len(df), 1)
    partial = v.on_failure == "partial" and row_level and share <= v.max_rejected_fraction
    accepted = df[(reasons == "").to_numpy()] if partial else df.iloc[:0]
    return BatchCheck(report, pii, quarantine, accepted, partial, provenance, quality)


def _sha256(source: str) -> str | None:
    from accelops.registry.tracking import file_hash

    path = Path(source)
    return file_hash(path) if path.is_file() else None


def write(check_: BatchCheck, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(check_.to_dict(), indent=2, default=str))
    return path


def markdown_summary(report: dict) -> str:
    """The validation report for people (Prefect artifact): verdict, each failed rule with column,
    severity, observation and expectation, quarantine, provenance. Counts only, never values."""
    verdict = "ACCEPTED" if report["success"] else ("PARTIALLY ACCEPTED" if report.get("partial_acceptance")
                                                    else "REJECTED")
    pii = report.get("pii_scan") or {}
    lines = [f"## Validation of `{report['source']}`: {verdict}", "",
             f"{report['rows']} rows, {report['evaluated']} rules evaluated, {len(report['failures'])} errors, "
             f"{len(report.get('warnings') or [])} warnings, {report.get('accepted_rows', 0)} rows accepted."]
    if pii.get("undeclared"):
        lines += ["", "**Undeclared personal data:** " + ", ".join(
            f"{f['column']} ({f['detector']}, {f['share']:.1%})" for f in pii["undeclared"])]
    rows = [*report["failures"], *(report.get("warnings") or [])]
    if rows:
        lines += ["", "| severity | column | rule | observed | expected |", "|---|---|---|---|---|"]
        for f in rows:
            col = f.get("column") or ",".join(f.get("columns") or []) or "table"
            lines.append(f"| {f['severity']} | {col} | {f['rule']} | {f['observed']} | {f['expected']} |")
    if q := report.get("quarantine"):
        lines += ["", f"{q['quarantined_rows']} rows quarantined ({q['per_rule']}) in `{q['rows_file']}` "
                      "(raw rows, local only)."]
    if prov := report.get("provenance"):
        lines += ["", f"input sha256 `{prov.get('source_sha256')}`, suite version `{prov.get('suite_version')}`, "
                      f"reference profile `{prov.get('reference_profile')}`"]
    if report.get("data_docs"):
        lines += ["", f"Data Docs: `{report['data_docs']}`"]
    return "\n".join(lines)
