"""`accelops audit`: the reliability and security figures a platform team signs, measured on this machine.

Sections measured today: personal data (recall per kind and per locale, false positives on
non-personal columns, value recall per column, free-text redaction, names of unseen locales). The
sections issue #17 asks for that are not built yet are listed as such, never as passed."""

from __future__ import annotations

import time
from typing import Any

PENDING = {
    "faults": "SIGKILL inside each stage, dependencies down",
    "concurrency": "two trainings and a monitoring run on one backend",
    "bad_input": "every entry point (params: bench/config_errors.py)",
    "canaries": "planted values searched for in the store, MLflow, reports and logs",
    "membership_inference": "attack AUC per trained model",
}


def pii_figures(rows: int = 100, seed: int = 0) -> dict[str, Any]:
    from accelops.validation.pii_corpus import corpus, leave_one_out, measure, text_redaction

    started = time.perf_counter()
    columns = corpus(rows=rows, seed=seed)
    out = measure(columns)
    out["text_redaction"] = text_redaction(columns, per_column=min(rows, 40), seed=seed)
    held_out = leave_one_out(columns)
    out["names_unseen_locale"] = {"recognised": sum(held_out.values()), "locales": len(held_out),
                                  "missed": sorted(k for k, v in held_out.items() if not v)}
    out["rows_per_column"] = rows
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def audit(rows: int = 100, seed: int = 0) -> dict[str, Any]:
    return {"pii": pii_figures(rows, seed), "pending": PENDING}


def render(result: dict[str, Any]) -> list[str]:
    pii = result["pii"]
    lines = [f"personal data: {pii['personal_columns']} personal and {pii['non_personal_columns']} non-personal "
             f"columns in {len(pii['locales'])} locales, {pii['rows_per_column']} values each "
             f"({pii['seconds']} s)",
             f"  {'kind':<15}{'column recall':>14}{'min value recall':>18}{'text redaction':>16}"]
    for kind, recall in pii["recall_by_kind"].items():
        lines.append(f"  {kind:<15}{recall:>14.1%}{pii['value_recall_min'][kind]:>18.1%}"
                     f"{pii['text_redaction'].get(kind, float('nan')):>16.1%}")
    worst = sorted(pii["recall_by_locale"].items(), key=lambda kv: kv[1])[:3]
    lines += [f"  column recall per locale: lowest {', '.join(f'{k} {v:.0%}' for k, v in worst)}",
              f"  false positives on non-personal columns: {len(pii['false_positives'])} of "
              f"{pii['non_personal_columns']} ({pii['false_positive_rate']:.1%})"
              + (f": {'; '.join(pii['false_positives'][:5])}" if pii["false_positives"] else ""),
              f"  names of a locale left out of the name lists: {pii['names_unseen_locale']['recognised']} of "
              f"{pii['names_unseen_locale']['locales']} locales' columns recognised"]
    if pii["missed"]:
        lines.append(f"  missed columns: {', '.join(pii['missed'])}")
    lines.append("not measured yet: " + "; ".join(f"{k} ({v})" for k, v in result["pending"].items()))
    return lines
