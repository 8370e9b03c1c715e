"""Every file the pipeline reads or writes, derived from params (one place).

Imports nothing from accelops: `Params.layout` resolves params.yaml's `paths` section through
`Layout.resolve`, so config sits above this module and never in a cycle with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

WORKDIR_ENV = "ACCELOPS_WORKDIR"


class Layout(BaseModel):
    """Every file the pipeline reads or writes, derived from params (one place)."""

    model_config = ConfigDict(frozen=True)
    root: Path
    workdir: Path
    history: Path
    feature_repo: Path | None     # None: accelops' generic definitions (accelops.features.definitions)
    reference_data: Path          # the data the reference profile and label-error rate come from

    @classmethod
    def resolve(cls, root: Path, workdir: str, history: str, feature_repo: str | None,
                reference: str | None = None) -> "Layout":
        """Absolute paths from params.yaml's `paths` (relative ones are under `root`, the folder of
        params.yaml); ACCELOPS_WORKDIR, when set, replaces the workdir."""
        work = Path(os.environ.get(WORKDIR_ENV) or workdir)
        return cls(
            root=root,
            workdir=work if work.is_absolute() else root / work,
            history=_abs(root, history),
            feature_repo=_abs(root, feature_repo) if feature_repo else None,
            reference_data=_abs(root, reference or history),
        )

    # pipeline files (DVC outputs)
    @property
    def history_manifest(self) -> Path:
        """The generator's ground truth beside the history (scenario, injected changes)."""
        return self.history.with_name(self.history.stem + ".manifest.json")

    @property
    def validated(self) -> Path:
        return self.workdir / "data" / "validated.parquet"

    @property
    def features_table(self) -> Path:
        return self.workdir / "data" / "features.parquet"

    @property
    def training_set(self) -> Path:
        return self.workdir / "data" / "training_set.parquet"

    @property
    def model_dir(self) -> Path:
        """The challenger: a copy of the candidate that scored best on the validation split."""
        return self.workdir / "model"

    @property
    def candidates_dir(self) -> Path:
        """One model folder per candidate the train stage fitted (network, boosting)."""
        return self.workdir / "candidates"

    def candidate_dir(self, kind: str) -> Path:
        return self.candidates_dir / kind

    @property
    def reference_profile(self) -> Path:
        """Statistics of the reference data (the `reference` stage): the suite's reference bounds."""
        return self.workdir / "reference" / "profile.json"

    @property
    def reference_label_quality(self) -> Path:
        """The label-error rate of the reference data (the `reference` stage): the label check's reference."""
        return self.workdir / "reference" / "label_quality.json"

    @property
    def quarantine_dir(self) -> Path:
        """Rows that failed an error rule, per input, with a counts-only summary (local only: raw rows)."""
        return self.workdir / "quarantine"

    @property
    def validation_report(self) -> Path:
        """The typed BatchReport of the training input."""
        return self.reports / "validation.json"

    @property
    def validation_html(self) -> Path:
        """The same report for people, one self-contained page (batch_check.write; logged to MLflow)."""
        return self.reports / "validation.html"

    @property
    def data_docs(self) -> Path:
        return self.reports / "data_docs"

    @property
    def label_quality_report(self) -> Path:
        return self.reports / "label_quality.json"

    @property
    def label_issues(self) -> Path:
        """Keys and labels of the rows flagged as likely label errors (for inspection)."""
        return self.reports / "label_issues.parquet"

    @property
    def serving_dir(self) -> Path:
        """The benchmark's serving.json (recommended variants) and the distilled student."""
        return self.workdir / "serving"

    @property
    def predictions(self) -> Path:
        return self.workdir / "data" / "test_predictions.parquet"

    @property
    def valid_predictions(self) -> Path:
        return self.workdir / "data" / "valid_predictions.parquet"

    @property
    def evaluation_dir(self) -> Path:
        return self.reports / "evaluation"

    @property
    def evaluation_report(self) -> Path:
        """The typed EvaluationReport: the promotion gate's input."""
        return self.evaluation_dir / "evaluation.json"

    @property
    def evaluation_summary(self) -> Path:
        return self.evaluation_dir / "summary.md"

    @property
    def benchmark_dir(self) -> Path:
        """The accelerator benchmark's table, JSON and plots (reports/benchmark)."""
        return self.reports / "benchmark"

    @property
    def benchmark_result(self) -> Path:
        """The typed BenchmarkResult (or BenchmarkSkipped) of the challenger."""
        return self.benchmark_dir / "benchmark.json"

    @property
    def reports(self) -> Path:
        return self.workdir / "reports"

    @property
    def feature_stats(self) -> Path:
        """The typed FeaturesSummary: the training set built and the statistics per feature view."""
        return self.reports / "feature_stats.json"

    @property
    def materialize_report(self) -> Path:
        return self.reports / "materialize.json"

    @property
    def training_summary(self) -> Path:
        """The typed TrainingSummary: the network's run, its baseline and ONNX check."""
        return self.reports / "training.json"

    @property
    def tuning_study(self) -> Path:
        """Optuna's journal of every study searched here (train.tuning.storage null): trials survive a failure."""
        return self.workdir / "tuning" / "optuna.journal"

    @property
    def training_curves(self) -> Path:
        return self.reports / "training_curves.png"

    @property
    def metrics_file(self) -> Path:
        return self.reports / "metrics.json"

    @property
    def model_card(self) -> Path:
        """The last registered version's model card (Markdown; model_card.html beside it)."""
        return self.reports / "model_card" / "model_card.md"

    @property
    def model_card_html(self) -> Path:
        return self.model_card.with_suffix(".html")

    @property
    def registration_file(self) -> Path:
        return self.reports / "registration.json"

    @property
    def training_sets_dir(self) -> Path:
        """Registered versions' training sets by content hash: the drift reference of a champion."""
        return self.workdir / "training_sets"

    def training_set_of(self, sha256: str) -> Path:
        return self.training_sets_dir / f"{sha256}.parquet"

    @property
    def checkpoints_dir(self) -> Path:
        """Crash-recovery checkpoints of a training run (removed when the run completes)."""
        return self.workdir / "checkpoints"

    @property
    def stage_keys_dir(self) -> Path:
        """The training flow's record of each stage's content-hash key (accelops.pipeline.stage_cache; removed
        when a run completes, so only a rerun after a failure skips stages)."""
        return self.workdir / "stage_keys"

    def bench_dir(self, model_uri: str) -> Path:
        """`accelops bench` results for a registered model (models:/NAME@ALIAS or models:/NAME/VERSION)."""
        safe = model_uri.removeprefix("models:/").replace("/", "-").replace("@", "-")
        return self.reports / "bench" / safe

    def serving_cache(self, model_name: str, version: str) -> Path:
        """A registered version's files, fetched once for online scoring."""
        return self.workdir / "serving_cache" / f"{model_name}-v{version}"

    def demo_batch(self, scenario: str) -> Path:
        """`make run`'s generated monitoring batch."""
        return self.workdir / "data" / f"batch_{scenario}.parquet"

    @property
    def demo_summary(self) -> Path:
        return self.reports / "demo_summary.json"

    # monitoring: one set of files per batch, named after the batch file's stem
    @property
    def monitoring_dir(self) -> Path:
        return self.reports / "monitoring"

    @property
    def drift_decision_file(self) -> Path:
        """The typed DriftDecision of the last checked batch."""
        return self.monitoring_dir / "last_decision.json"

    @property
    def intake_ledger(self) -> Path:
        """The SQLite intake ledger and drift windows (monitor.ledger_url unset)."""
        return self.monitoring_dir / "ledger.db"

    @property
    def quarantined_files(self) -> Path:
        """Landed files the monitoring run rejected, each with its reason and report."""
        return self.quarantine_dir / "landed"

    @property
    def drift_decisions_log(self) -> Path:
        """One JSON line per checked batch: batch, drift share, decision, reason, time."""
        return self.monitoring_dir / "decisions.jsonl"

    @property
    def batch_data_docs(self) -> Path:
        return self.monitoring_dir / "data_docs"

    def batch_validation_report(self, batch: Path) -> Path:
        return self.monitoring_dir / f"validation_{Path(batch).stem}.json"

    @property
    def window_performance(self) -> Path:
        """Every monitoring window's estimated and realised performance (the prediction logs joined with
        the delayed labels), rewritten by each check."""
        return self.monitoring_dir / "windows.json"

    def prediction_log(self, batch: Path) -> Path:
        """The champion's scores for a batch: keys, prediction and model version (no features)."""
        return self.monitoring_dir / "predictions" / f"{Path(batch).stem}.parquet"

    def drift_report(self, batch: Path) -> Path:
        """Evidently's HTML drift report for a batch."""
        return self.monitoring_dir / f"drift_{Path(batch).stem}.html"

    @property
    def history_pointer(self) -> Path:
        """Which file is the history now (accelops.pipeline.history): paths.history, or the last accepted
        retraining data that grew from it."""
        return self.workdir / "data" / "current_history.json"

    def retraining_data(self, stamp: str) -> Path:
        """The last training input plus a drifted batch, for retraining."""
        return self.workdir / "data" / f"retrain_{stamp}.parquet"

    # tool state
    @property
    def mlflow_dir(self) -> Path:
        return self.workdir / "mlflow"

    @property
    def mlflow_db(self) -> Path:
        """The embedded tracking store (when register.tracking_uri is not set)."""
        return self.mlflow_dir / "mlflow.db"

    @property
    def active_run(self) -> Path:
        """The MLflow run id of the training flow in progress (written and removed by the flow)."""
        return self.mlflow_dir / "active_run.txt"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow_dir / "artifacts"

    @property
    def dvc_lock(self) -> Path:
        """DVC's record of the revision of every stage's outputs (read for provenance)."""
        return self.root / "dvc.lock"

    @property
    def champion_lock(self) -> Path:
        """Serialises moves of @champion (compare-and-set) between processes on this machine."""
        return self.workdir / "locks" / "champion.lock"

    @property
    def training_lock(self) -> Path:
        """Held by the training flow in progress in this workdir (one at a time; the kernel frees it when
        its process dies, however it dies)."""
        return self.workdir / "locks" / "training.lock"

    @property
    def feast_dir(self) -> Path:
        return self.workdir / "feast"

    @property
    def tools_log(self) -> Path:
        """Third-party libraries' log lines and warnings (kept off the console)."""
        return self.workdir / "logs" / "tools.log"

    @property
    def run_log(self) -> Path:
        """Every accelops log line at INFO and up (the console shows one line per stage)."""
        return self.workdir / "logs" / "accelops.log"

    @property
    def prefect_home(self) -> Path:
        return self.workdir / "prefect"

    @property
    def pii_key_file(self) -> Path:
        return self.workdir / "secrets" / "pii_hmac.key"


def _abs(root: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p
