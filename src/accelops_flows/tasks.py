"""One Prefect task per pipeline stage; the work is in accelops.pipeline.

No task tags: in Prefect 3.9 every tagged task run acquires tag-concurrency slots with a lease
through the API, which cost ~2 s per task here (bench/pipeline.py measured 3.8x overhead with
tags, see bench/results/pipeline.json for the figure without). Add tags only with limits.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from accelops.config import Params
from accelops.evaluation.schema import EvaluationReport
from accelops.features.schema import FeaturesSummary, MaterializeSummary
from accelops.monitoring.drift import DriftDecision
from accelops.registry.promotion import Registration
from accelops.serving.schema import BenchmarkResult, BenchmarkSkipped
from accelops.training.schema import TrainingSummary
from accelops.validation.batch_check import BatchReport
from accelops.validation.profile import ReferenceSummary
from accelops.pipeline import batch_stages, stage_cache, stages
from accelops.pipeline.batch_stages import NoChampion, RetrainingData

# Stages write files and registries: never served from Prefect's result cache. A rerun after a failure
# skips the stages whose inputs did not change by accelops' own content-hash keys (pipeline.stage_cache),
# which also check that the files the stage wrote are still there as written.
_stage = dict(cache_policy=NO_CACHE, persist_result=False)


def _transient(task, task_run, state) -> bool:
    """Retry a failure of the store it talks to (connection, timeout, a locked database), never one of
    ours: a named accelops error says the input or a rule is wrong, and would fail again."""
    from accelops.errors import AccelopsError

    try:
        state.result()
    except AccelopsError:
        return False
    except Exception:                  # noqa: BLE001 - whatever the store raised
        return True
    return False


# I/O against the feature store, retried with backoff (5 s, 20 s); register is not retried (a retry
# could register a second version), its failure leaves the run FAILED and @champion unchanged
_io = dict(retries=2, retry_delay_seconds=[5, 20], retry_condition_fn=_transient)


@task(name="reference", **_stage)
def reference(params: Params) -> ReferenceSummary:
    return stages.reference(params)


@task(name="validate", **_stage)
def validate(params: Params, data: str | None, new_after: str | None = None) -> BatchReport:
    started = time.time()
    try:
        return stage_cache.run(params, "validate", lambda: stages.validate(params, Path(data) if data else None,
                                                                          new_after),
                               files=[data], arguments={"new_after": new_after})
    finally:   # the report is most useful when the batch was stopped
        _publish_validation(params.layout.validation_report, started, "validation")


def _publish_validation(path: Path, since: float, key: str) -> None:
    from accelops.validation.batch_check import BatchReport, markdown_summary

    if path.exists() and path.stat().st_mtime >= since:
        create_markdown_artifact(markdown=markdown_summary(BatchReport.model_validate_json(path.read_text())), key=key,
                                 description="Data-quality gate: rules failed, quarantine, provenance")


@task(name="features", **_stage, **_io)
def features(params: Params) -> FeaturesSummary:
    return stage_cache.run(params, "features", lambda: stages.features(params))


@task(name="train", **_stage)
def train(params: Params) -> TrainingSummary:
    return stage_cache.run(params, "train", lambda: stages.train(params))


@task(name="evaluate", **_stage)
def evaluate(params: Params) -> EvaluationReport:
    result = stage_cache.run(params, "evaluate", lambda: stages.evaluate(params))
    create_markdown_artifact(markdown=params.layout.evaluation_summary.read_text(),
                             key="evaluation", description="Test-split evaluation of the challenger")
    return result


@task(name="benchmark", **_stage)
def benchmark(params: Params) -> BenchmarkResult | BenchmarkSkipped:
    result = stage_cache.run(params, "benchmark", lambda: stages.benchmark(params))
    if result.enabled:
        create_table_artifact(table=[r.model_dump() for r in result.rows], key="serving-benchmark",
                              description="Serving variants: latency, throughput, cost, accuracy delta")
    return result


@task(name="register", **_stage)
def register(params: Params, reason: str) -> Registration:
    result = stages.register(params, reason)
    run_link, version_link = mlflow_links(params, result.run_id, result.version)
    create_table_artifact(
        table=[r.model_dump() for r in result.rules], key="gate-decision",
        description=(f"Promotion gate: v{result.version} {result.status} (MLflow run {run_link}, model version "
                     f"{version_link}): {result.reason}")[:2000])
    if result.status == "PROMOTED":
        create_markdown_artifact(key="champion-change", description="@champion moved", markdown=(
            f"**@champion: v{result.champion_version or '-'} -> v{result.version}** ({reason})\n\n"
            f"[MLflow run]({run_link}) · [model version]({version_link})\n\n{result.reason}"))
    create_markdown_artifact(markdown=params.layout.model_card.read_text(), key="model-card",
                             description=f"Model card of v{result.version} (also on its MLflow run: model_card/)")
    return result


@task(name="materialize", **_stage, **_io)
def materialize(params: Params) -> MaterializeSummary:
    return stages.materialize(params)


@task(name="check-batch", **_stage)
def check_batch(params: Params, batch: str, training_active: bool = False) -> DriftDecision | NoChampion:
    started = time.time()
    try:
        decision = batch_stages.check_batch(params, Path(batch), training_active)
        _publish_drift(decision)
        return decision
    finally:
        report = params.layout.batch_validation_report(Path(batch))
        _publish_validation(report, started, "batch-validation")


@task(name="retraining-data", **_stage)
def retraining_data(params: Params, batches: list[str]) -> RetrainingData:
    return batch_stages.retraining_data(params, [Path(b) for b in batches])


def _publish_drift(decision: DriftDecision | NoChampion) -> None:
    """The drift decision as a table artifact (key drift-decision): the verdict, why, and the evidence."""
    rows = [{"fact": "retrain", "value": str(decision.retrain)}, {"fact": "reason", "value": decision.reason},
            {"fact": "batch", "value": decision.batch}]
    if isinstance(decision, DriftDecision):
        rows += [{"fact": "drift share", "value": f"{decision.drift_share:.3f} (threshold {decision.threshold})"},
                 {"fact": "drifted columns", "value": ", ".join(decision.drifted_columns) or "none"},
                 {"fact": "champion", "value": f"v{decision.champion_version}"},
                 {"fact": "reference", "value": decision.reference}]
        if decision.prediction is not None:
            rows.append({"fact": "prediction drift", "value": f"{decision.prediction.effect:.3f} sd "
                                                              f"(p {decision.prediction.p_value:.2g})"})
        if decision.label is not None:
            rows.append({"fact": "label drift", "value": f"{decision.label.effect:.3f} (p {decision.label.p_value:.2g})"})
        if (perf := decision.performance) is not None:
            realised = "labels not in yet" if perf.realised_auc is None else f"{perf.realised_auc:.4f}"
            rows.append({"fact": "AUC", "value": f"estimated {perf.estimated_auc:.4f}, realised {realised}"})
        if (a := decision.attribution) is not None:
            rows += [{"fact": f"impact {i.column}", "value": f"{i.mean_prediction_change:+.4f} mean prediction"}
                     for i in a.impacts[:5]]
        rows += [{"fact": f"score {c}", "value": f"{s:.3f}"} for c, s in sorted(decision.scores.items())]
    create_table_artifact(rows, key="drift-decision", description=f"Drift decision on {decision.batch}")


def mlflow_links(params: Params, run_id: str, version: str) -> tuple[str, str]:
    """Links to the MLflow UI for a run and a model version: the tracking server's own UI, or the one
    `accelops ui mlflow` serves over the local store."""
    import mlflow

    from accelops.registry.tracking import tracking_uri
    from accelops.runtime import UI_PORTS

    uri = tracking_uri(params)
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else f"http://127.0.0.1:{UI_PORTS['mlflow']}"
    experiment = mlflow.get_experiment_by_name(params.register_.experiment)
    exp_id = experiment.experiment_id if experiment else "0"
    return (f"{base}/#/experiments/{exp_id}/runs/{run_id}",
            f"{base}/#/models/{params.register_.model_name}/versions/{version}")


def publish_landed(landed: list) -> None:
    """What became of each landed file (key landed-files)."""
    if landed:
        create_table_artifact([{"file": f.file, "state": f.state, "attempts": f.attempts, "outcome": f.outcome[:300],
                                "quarantined_to": f.quarantined_to or ""} for f in landed],
                              key="landed-files", description="Files taken from the landing folder by this run")
