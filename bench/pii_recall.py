"""Personal-data recognition: recall and false positives on a labelled 24-locale corpus, and what
the scan costs next to the validation suite on the same batch, in one run.

    python bench/pii_recall.py [--rows N] [--batch-rows N]

The corpus (accelops.validation.pii_corpus): per locale one column per personal kind (names in the
locale's script, addresses, dates of birth in the locale's format, emails, phones, cards, IBANs,
IPs, checksummed national ids where Faker writes valid ones) and twelve non-personal columns
(codes, UUIDs, invoice and part numbers, versions, categories, product names, amounts, counts,
account numbers, timestamps, event dates, sentences). Headers are neutral: the values decide.
Cost: `scan` (5,000 sampled values per column) against the validation suite (`run_suite`) on the
demo generator's batch. Prints a table, then one JSON line (bench/results/pii_recall.json).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _results import emit

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"recall": 0.95, "false_positive_rate": 0.01}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200, help="values per corpus column")
    ap.add_argument("--batch-rows", type=int, default=50_000)
    ap.add_argument("--results", default=None)
    args = ap.parse_args(argv)

    from accelops.config import load_params
    from accelops.data import io
    from accelops.data.generator import generate
    from accelops.pipeline.audit import PENDING, pii_figures, render
    from accelops.validation.expectations import run_suite
    from accelops.validation.pii_scan import scan
    from accelops.validation.profile import build_profile

    figures = pii_figures(rows=args.rows)
    for line in render({"pii": figures, "pending": PENDING})[:-1]:
        print(line)

    params = load_params(REPO / "params.yaml")
    c, g = params.dataset, params.generate
    df = io.conform(generate(args.batch_rows, g.days, g.start, seed=12).frame, c, "bench")
    profile = build_profile(df, c, "reference")
    run_suite(df, c, params.validate_, "bench", profile)            # warm-up: GX's first context
    t = time.perf_counter()
    run_suite(df, c, params.validate_, "bench", profile)
    suite_s = time.perf_counter() - t
    t = time.perf_counter()
    found = scan(df, [*c.pii, *c.text], "bench", params.validate_.pii_sample, params.validate_.pii_threshold,
                 regions=tuple(params.validate_.pii_regions))
    scan_s = time.perf_counter() - t
    print(f"scan of the demo batch ({args.batch_rows} rows, {df.shape[1]} columns): {scan_s:.2f} s; "
          f"validation suite: {suite_s:.2f} s; ratio {scan_s / suite_s:.2f}")

    recall = min(figures["recall_by_kind"].values())
    out = {
        "rows_per_column": args.rows, "locales": figures["locales"],
        "personal_columns": figures["personal_columns"], "non_personal_columns": figures["non_personal_columns"],
        "recall_by_kind": figures["recall_by_kind"], "recall_by_locale": figures["recall_by_locale"],
        "value_recall_min": figures["value_recall_min"], "value_recall_mean": figures["value_recall_mean"],
        "false_positive_rate": figures["false_positive_rate"], "false_positives": figures["false_positives"],
        "missed": figures["missed"], "text_redaction": figures["text_redaction"],
        "names_unseen_locale": figures["names_unseen_locale"], "corpus_seconds": figures["seconds"],
        "scan_seconds": round(scan_s, 2), "suite_seconds": round(suite_s, 2),
        "scan_to_suite": round(scan_s / suite_s, 2), "demo_columns_typed": sorted(found.columns),
        "targets": TARGETS,
        "meets_targets": recall >= TARGETS["recall"] and min(figures["value_recall_min"].values()) >= TARGETS["recall"]
        and figures["false_positive_rate"] <= TARGETS["false_positive_rate"],
    }
    emit("pii_recall", out, args.results)
    return 0 if out["meets_targets"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
