"""One line per stage result, for the console's progress lines and run logs."""

from __future__ import annotations

from pydantic import BaseModel


def stage_line(result: object) -> str:
    """What a stage's typed result says in a few words (empty for a type it does not know)."""
    name = type(result).__name__
    r: BaseModel = result  # type: ignore[assignment]
    if name == "ReferenceSummary":
        return f"{r.rows} rows profiled" + ("" if r.recomputed else " (unchanged, reused)")
    if name == "BatchReport":
        label = f"; label check: {r.label_quality.rate:.1%} flagged" if r.label_quality else ""
        return (f"{r.accepted_rows} of {r.rows} rows accepted, {r.evaluated} expectations, "
                f"{len(r.warnings)} warning(s){label}")
    if name == "FeaturesSummary":
        return f"{r.rows} training rows from {len(r.views)} view(s) of {r.feature_service}"
    if name == "TrainingSummary":
        return (f"{r.challenger} chosen (valid AUC network {r.valid_auc['network']:.4f}, boosting "
                f"{r.valid_auc['boosting']:.4f}); batch {r.batch_size}, {r.epochs_run}/{r.max_epochs} epochs on {r.device}")
    if name == "TuningResult":
        pruned = sum(t.state == "PRUNED" for t in r.trials)
        return (f"{len(r.trials)} trials ({pruned} pruned); best #{r.best_number} valid AUC {r.best_valid_auc:.4f} "
                f"vs {r.default_valid_auc:.4f} as written")
    if name == "EvaluationReport":
        auc = r.intervals["roc_auc"]
        return f"test AUC {auc.value:.4f} [{auc.low:.4f}, {auc.high:.4f}] on {r.rows.test} rows"
    if name == "BenchmarkSkipped":
        return r.reason
    if name == "BenchmarkResult":
        online = r.recommendation.online
        return f"{len(r.variants)} variants; online: {online.variant if online else 'none meets the objective'}"
    if name in ("Registration", "DecisionRecord"):
        return f"v{r.version} {r.status}"
    if name == "MaterializeSummary":
        return "skipped (nothing new)" if r.skipped else f"{r.entities} entities into the {r.store} online store"
    return ""
