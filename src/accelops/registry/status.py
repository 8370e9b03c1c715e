"""`accelops status`: champion, registered versions with their gate decisions, last drift decision."""

from __future__ import annotations

import json

from accelops.config import Params


def collect(params: Params) -> dict:
    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    name = params.register_.model_name
    facts: dict = {"model_name": name, "tracking_uri": tracking.tracking_uri(params), "champion": None,
                   "versions": [], "last_drift_decision": None}
    client = tracking.connect(params)
    champion = current_champion(client, name)
    versions = client.search_model_versions(f"name = '{name}'")
    for v in sorted(versions, key=lambda v: int(v.version)):
        facts["versions"].append({
            "version": int(v.version), "run_id": v.run_id,
            "gate_decision": v.tags.get("gate.decision"), "gate_reason": v.tags.get("gate.reason"),
            "created": v.creation_timestamp, "is_champion": bool(champion and champion.version == v.version),
        })
    if champion is not None:
        run = client.get_run(champion.run_id)
        facts["champion"] = {
            "version": int(champion.version), "run_id": champion.run_id,
            "test_metrics": {k.removeprefix("test_"): v for k, v in run.data.metrics.items() if k.startswith("test_")},
            "trigger": run.data.tags.get("trigger"), "device": run.data.tags.get("device"),
            "model_kind": run.data.tags.get("model_kind", "network"),
            "candidates": {k.removeprefix("valid_auc_"): v for k, v in run.data.metrics.items()
                           if k.startswith("valid_auc_")},
            "serving": {k.removeprefix("serving."): v for k, v in run.data.tags.items() if k.startswith("serving.")},
        }
    decision_file = params.layout.drift_decision_file
    if decision_file.exists():
        d = json.loads(decision_file.read_text())
        facts["last_drift_decision"] = {k: d.get(k) for k in ("batch", "decided_at", "drift_share", "threshold",
                                                               "drifted_columns", "retrain", "reason", "reference", "html")}
    return facts


def render(facts: dict) -> str:
    lines = [f"model {facts['model_name']}  ({facts['tracking_uri']})"]
    ch = facts["champion"]
    if ch:
        m = ch["test_metrics"]
        lines.append(f"champion: v{ch['version']} ({ch.get('model_kind', 'network')})  test ROC-AUC {m.get('roc_auc', float('nan')):.4f}  "
                     f"PR-AUC {m.get('pr_auc', float('nan')):.4f}  log loss {m.get('log_loss', float('nan')):.4f}  "
                     f"Brier {m.get('brier', float('nan')):.4f}")
        if ch.get("candidates"):
            lines.append("  chosen by validation AUC: " + ", ".join(f"{k} {v:.4f}" for k, v in ch["candidates"].items()))
        s = ch.get("serving") or {}
        for mode in ("online", "batch"):
            if f"{mode}.variant" in s:
                lines.append(f"  serves {mode} on {s[f'{mode}.variant']} (batch {s[f'{mode}.batch_size']}, "
                             f"p99 {s[f'{mode}.p99_ms']} ms, ${s[f'{mode}.cost_per_million_usd']} per million)")
    else:
        lines.append("champion: none")
    for v in facts["versions"]:
        star = "*" if v["is_champion"] else " "
        lines.append(f" {star} v{v['version']}: {v['gate_decision']} ({v['gate_reason']})")
    d = facts["last_drift_decision"]
    if d:
        lines.append(f"last drift decision: {'RETRAIN' if d['retrain'] else 'no retraining'}: {d['reason']}")
        if d.get("html"):
            lines.append(f"  report: {d['html']}")
    else:
        lines.append("last drift decision: none yet")
    return "\n".join(lines)
