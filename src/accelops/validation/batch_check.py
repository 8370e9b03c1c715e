"""The data-quality gate every batch passes through (training input, monitoring batches, CLI):
PII scan of every column, the suite (contract + reference-profile bounds, each rule an error or a
warning), quarantine of rows failing error rules, the failure policy, and provenance (the input's
content hash and the suite version) with data-quality facts (class balance, near-duplicates,
thinly populated slices)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from accelops.config import Params
from accelops.fanout import Fanout
from accelops.hashing import json_digest, sha256_if_file
from accelops.validation import profile as profiles
from accelops.validation.expectations import ValidationReport, run_suite, suite_version
from accelops.validation.label_quality import LabelCheck
from accelops.validation.pii_scan import PiiScan, scan
from accelops.validation.quarantine import row_failures, write_quarantine

ROW_LEVEL_RULES = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_between",
                   "expect_column_values_to_be_in_set", "expect_compound_columns_to_be_unique"}


class Provenance(BaseModel):
    source: str
    source_sha256: str | None          # content hash of the input file (None for an in-memory frame)
    suite_version: str
    reference_profile: str | None      # digest of the reference profile that bounded the suite


class BatchReport(ValidationReport):
    """validation.json: the suite's outcome, the PII scan, the quarantine, provenance and data-quality
    facts; the training input's report also carries the label check and where the accepted rows went."""
    pii_scan: PiiScan
    quarantine: dict[str, Any] | None = None
    accepted_rows: int
    partial_acceptance: bool = False
    provenance: Provenance | None = None
    data_quality: dict[str, Any] | None = None
    label_quality: LabelCheck | None = None
    validated: str | None = None       # the PII-protected accepted rows (training input only)


@dataclass
class BatchCheck:
    """A checked batch: its report and, in memory, the rows that continue."""
    report: ValidationReport
    pii: PiiScan
    quarantine: dict | None
    accepted: pd.DataFrame
    partial: bool = False
    provenance: Provenance | None = None
    quality: dict | None = None

    def summary(self) -> BatchReport:
        return BatchReport(**self.report.model_dump(), pii_scan=self.pii, quarantine=self.quarantine,
                           accepted_rows=int(len(self.accepted)), partial_acceptance=self.partial,
                           provenance=self.provenance, data_quality=self.quality)

    def enforce(self) -> pd.DataFrame:
        """Raise the named error for a blocked batch; else return the rows that continue."""
        self.pii.raise_for_undeclared()
        if not self.report.success and not self.partial:
            self.report.raise_for_failures()
        return self.accepted


def check(df: pd.DataFrame, params: Params, source: str, quarantine_dir: Path,
          docs_dir: Path | None = None, fan: Fanout | None = None) -> BatchCheck:
    """Never raises for data problems: call `.enforce()` (after writing the report) for that.
    The reference profile (params.layout.reference_profile) adds its bounds once it exists;
    `docs_dir` renders Great Expectations' Data Docs for the run there; `fan`: the suite's row-wise
    rules per entity partition."""
    c, v = params.dataset, params.validate_
    profile = profiles.load(params.layout.reference_profile) if v.reference_profile else None
    provenance = Provenance(source=str(source), source_sha256=sha256_if_file(source),
                            suite_version=suite_version(c, v, profile),
                            reference_profile=json_digest(profile, length=16) if profile else None)
    made = [getattr(c, key) for key in c.derive_keys]      # accelops' own row ids and times carry no PII
    pii = scan(df, [*c.pii, *c.text, *made], source, v.pii_sample, v.pii_threshold, regions=tuple(v.pii_regions))
    if pii.undeclared:   # nothing else is computed or written from a batch that carries stray PII
        report = ValidationReport(source=source, rows=len(df), success=False, evaluated=0,
                                  suite_version=provenance.suite_version)
        return BatchCheck(report, pii, None, df.iloc[:0], provenance=provenance)
    report = run_suite(df, c, v, source, profile, docs_dir, fan=fan)
    labels = sorted(df[c.label].dropna().unique().tolist()) if c.label in df else []
    quality = {"class_balance": profiles.class_balance(df, c) if c.label in df else None,
               "label_classes": [int(x) if float(x).is_integer() else x for x in labels],
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


def write(check_: BatchCheck, path: Path) -> Path:
    """validation.json, and beside it validation.html: the same report for people (markdown_summary as a
    self-contained page, logged to MLflow where Data Docs render unstyled)."""
    from accelops.html import page

    path.parent.mkdir(parents=True, exist_ok=True)
    summary = check_.summary()
    path.write_text(summary.model_dump_json(indent=2))
    path.with_suffix(".html").write_text(page(markdown_summary(summary), f"validation of {summary.source}"))  # validation_html
    return path


def warning_lines(report: ValidationReport, quality: dict | None = None) -> list[str]:
    """The rules that failed at warning severity, and data-quality facts worth a look, a line each
    (column, rule, observed vs expected: counts and bounds only, never values)."""
    lines = []
    for f in report.warnings:
        col = f.get("column") or ",".join(f.get("columns") or []) or "table"
        lines.append(f"warning: {col}: {f['rule']}: observed {f['observed']}, expected {f['expected']}")
    quality = quality or {}
    if len(classes := quality.get("label_classes") or [None, None]) == 1:
        lines.append(f"warning: label: a single class ({classes[0]} in every labelled row): a model cannot be "
                     "trained on this file (the training flow stops on it)")
    if dup := quality.get("near_duplicate_rows"):
        lines.append(f"note: {dup} of {report.rows} rows ({dup / max(report.rows, 1):.1%}) repeat an earlier row on "
                     "every feature and the label")
    for s in quality.get("low_support_slices") or []:
        lines.append(f"note: slice {s.get('slice')}={s.get('value')}: {s.get('rows')} rows (too few to evaluate alone)")
    return lines


def markdown_summary(report: BatchReport) -> str:
    """The validation report for people (Prefect artifact): verdict, each failed rule with column,
    severity, observation and expectation, quarantine, provenance. Counts only, never values."""
    verdict = "ACCEPTED" if report.success else ("PARTIALLY ACCEPTED" if report.partial_acceptance else "REJECTED")
    lines = [f"## Validation of `{report.source}`: {verdict}", "",
             f"{report.rows} rows, {report.evaluated} rules evaluated, {len(report.failures)} errors, "
             f"{len(report.warnings)} warnings, {report.accepted_rows} rows accepted."]
    if report.pii_scan.undeclared:
        lines += ["", "**Undeclared personal data:** " + ", ".join(
            f"{f['column']} ({f['detector']}, {f['share']:.1%})" for f in report.pii_scan.undeclared)]
    rows = [*report.failures, *report.warnings]
    if rows:
        lines += ["", "| severity | column | rule | observed | expected |", "|---|---|---|---|---|"]
        for f in rows:
            col = f.get("column") or ",".join(f.get("columns") or []) or "table"
            lines.append(f"| {f['severity']} | {col} | {f['rule']} | {f['observed']} | {f['expected']} |")
    if q := report.quarantine:
        lines += ["", f"{q['quarantined_rows']} rows quarantined ({q['per_rule']}) in `{q['rows_file']}` "
                      "(raw rows, local only)."]
    if prov := report.provenance:
        lines += ["", f"input sha256 `{prov.source_sha256}`, suite version `{prov.suite_version}`, "
                      f"reference profile `{prov.reference_profile}`"]
    if report.data_docs:
        lines += ["", f"Data Docs: `{report.data_docs}`"]
    return "\n".join(lines)
