"""One MLflow run per challenger: its parameters, provenance, metrics (epochs at their steps),
reports, evaluation, benchmark and the model; then registration behind the promotion gate."""

from __future__ import annotations

import tempfile
import time
import warnings
from importlib import metadata

import numpy as np
import pandas as pd

from accelops.config import Params
from accelops.evaluation.schema import EvaluationReport
from accelops.registry import history
from accelops.registry.promotion import Candidate, Registration, register_and_gate
from accelops.serving.schema import BenchmarkResult, Recommendation
from accelops.training import model_folder
from accelops.training.schema import TrainingSummary
from accelops.validation.batch_check import BatchReport

LOGGED_PARAM_SECTIONS = ("train", "features", "validate", "pii", "evaluate")


def register_challenger(params: Params, reason: str, training: TrainingSummary, evaluation: EvaluationReport,
                        benchmark: BenchmarkResult | None, validation: BatchReport | None,
                        test: pd.DataFrame) -> Registration:
    """Log the run, log the model (with the benchmark's serving folder when there is one), register a
    version and apply the gate; `test` carries the features, labels and the challenger's predictions."""
    import mlflow

    from accelops.registry import tracking

    contract = params.model_contract
    features_only = test[contract.feature_columns]
    client = tracking.connect(params)
    live = tracking.active_run(params)           # the training flow's own run, open since its first stage
    with (mlflow.start_run(run_id=live) if live else
          mlflow.start_run(run_name=f"train-{time.strftime('%Y%m%d-%H%M%S')}")) as run:
        _log_facts(client, run.info.run_id, params, reason, training, evaluation, validation, epochs_logged=bool(live))
        rec = _log_benchmark(params, benchmark) if benchmark is not None else None
        model_uri = tracking.log_model(params.layout.model_dir, features_only.head(5),
                                       test["prediction"].head(5).to_numpy(),
                                       serving_dir=params.layout.serving_dir if rec is not None else None)

        def score_champion(uri: str) -> np.ndarray:
            with tempfile.TemporaryDirectory() as tmp:
                champion = mlflow.pyfunc.load_model(uri, dst_path=tmp)
                return np.asarray(champion.predict(features_only), dtype=float)

        others = {k: test[model_folder.candidate_column(k)].to_numpy(float) for k in model_folder.KINDS
                  if k != training.challenger and model_folder.candidate_column(k) in test}
        candidate = Candidate(y=test[contract.label].to_numpy(), p=test["prediction"].to_numpy(float),
                              kind=training.challenger, others=others, slices=test[list(contract.slices)], sensitive=test[list(params.evaluate.sensitive)],
                              evaluation=evaluation, serving=rec)
        decision = register_and_gate(history.for_params(params, client), model_uri, run.info.run_id, candidate,
                                     score_champion, params.register_.gate,
                                     serving_checked=params.benchmark.enabled and params.benchmark.gate,
                                     min_support=params.evaluate.min_slice_support, seed=params.train.seed,
                                     manual=params.register_.approval == "manual")
        mlflow.log_dict(decision.model_dump(mode="json"), "gate/decision.json")
        mlflow.set_tags({"gate.status": decision.status, "gate.reason": decision.reason[:5000],
                         "registered_version": decision.version})
        source = validation.source if validation is not None else str(params.layout.history)
        described = (f"v{decision.version} {decision.status}: {decision.reason}\n\nTrigger: {reason}. Data: {source} "
                     f"({training.rows.get('train', 0) + training.rows.get('valid', 0) + training.rows.get('test', 0)} "
                     f"rows; challenger {training.challenger}).")
        mlflow.set_tag("mlflow.note.content", described[:5000])
        client.update_model_version(params.register_.model_name, decision.version, description=described[:5000])
        provenance = _provenance(params, validation) | {"parent_champion": str(decision.champion_version)}
        for key, value in provenance.items():
            client.set_model_version_tag(params.register_.model_name, decision.version, f"prov.{key}", value)
        _log_datasets(params, test)
        _model_card(params, decision, training, evaluation, benchmark, provenance)
    return Registration(**decision.model_dump(), run_id=run.info.run_id, model_uri=model_uri, trigger=reason)


def _log_facts(client, run_id: str, params: Params, reason: str, training: TrainingSummary,
               evaluation: EvaluationReport, validation: BatchReport | None, epochs_logged: bool = False) -> None:
    import mlflow
    from mlflow.entities import Metric

    from accelops.evaluation.report import flat_metrics
    from accelops.hashing import file_sha256
    from accelops.registry import tracking

    lay = params.layout
    mlflow.log_params(tracking.flatten({k: v for k, v in params.model_dump(by_alias=True).items()
                                        if k in LOGGED_PARAM_SECTIONS}))
    mlflow.set_tags({"git_commit": tracking.git_commit(lay.root), "data_hash": file_sha256(lay.training_set),
                     "params_hash": tracking.params_hash(params), "device": training.device,
                     "device_name": training.device_name, "torch_version": metadata.version("torch"),
                     "precision": training.precision, "threads": str(training.threads), "trigger": reason,
                     "model_kind": training.challenger, "challenger_choice": training.challenger_reason[:500]}
                    | _provenance_tags(validation))
    now = int(time.time() * 1000)
    batch = [Metric(k, v, now, 0) for k, v in flat_metrics(evaluation).items()]
    for h in ([] if epochs_logged else training.history):     # a flow's run got them live, each at its time
        batch += [Metric(k, getattr(h, k), now, h.epoch) for k in ("train_loss", "valid_auc", "lr")]
    base = training.baseline
    batch += [Metric(f"baseline_test_{k}", float(getattr(base, k)), now, 0)
              for k in ("roc_auc", "pr_auc", "log_loss", "brier")]
    batch += [Metric(f"valid_auc_{kind}", auc, now, 0) for kind, auc in training.valid_auc.items()]
    batch += [Metric("challenger_minus_baseline_auc", evaluation.overall.roc_auc - base.roc_auc, now, 0),
              Metric("train_seconds", training.seconds, now, 0),
              Metric("onnx_max_abs_logit_diff", training.onnx.max_abs_diff, now, 0)]
    if training.tuning is not None:
        batch += _tuning_facts(training.tuning, lay.tuning_study, now)
    client.log_batch(run_id, metrics=batch)
    for path in (lay.validation_report, lay.validation_html, lay.label_quality_report, lay.feature_stats,
                 lay.training_summary, lay.metrics_file, lay.training_curves):
        if path.exists():
            mlflow.log_artifact(str(path), artifact_path="reports")
    if (lay.data_docs / "index.html").exists():
        mlflow.log_artifacts(str(lay.data_docs), artifact_path="data_docs")
    mlflow.log_artifacts(str(lay.evaluation_dir), artifact_path="evaluation")


def _tuning_facts(tuned, journal, now: int) -> list:
    """The search behind the network (train.tuning): the values used as tuned.* params, the study's tags,
    its best and as-written validation AUC as metrics, and the journal beside the run (Optuna can reload it)."""
    import mlflow
    from mlflow.entities import Metric

    mlflow.log_params({f"tuned.{k}": v for k, v in tuned.best_values.items()})
    mlflow.set_tags({"tuning.study": tuned.study, "tuning.storage": tuned.storage,
                     "tuning.best_trial": str(tuned.best_number)})
    if journal.exists():
        mlflow.log_artifact(str(journal), artifact_path="tuning")
    states = [t.state for t in tuned.trials]
    return [Metric("tuning.best_valid_auc", tuned.best_valid_auc, now, 0),
            Metric("tuning.default_valid_auc", tuned.default_valid_auc, now, 0),
            Metric("tuning.trials", float(len(states)), now, 0),
            Metric("tuning.pruned", float(states.count("PRUNED")), now, 0)]


def _provenance(params: Params, validation: BatchReport | None) -> dict[str, str]:
    """Where the version comes from: data and params hashes, code and DVC revisions, suite version, the
    feature service and its views (recorded on the model version as prov.* tags and in its card)."""
    import yaml

    from accelops.hashing import file_sha256, json_digest
    from accelops.registry import tracking

    lay = params.layout
    dvc = (yaml.safe_load(lay.dvc_lock.read_text()) or {}).get("stages", {}) if lay.dvc_lock.exists() else {}
    history_md5 = next((o.get("md5") for o in dvc.get("generate", {}).get("outs", [])
                        if lay.root / o.get("path", "") == lay.history), None)
    views = {n: v.features for n, v in params.features.views.items()}
    return {"training_set_sha256": file_sha256(lay.training_set), "params_hash": tracking.params_hash(params),
            "git_commit": tracking.git_commit(lay.root), "dvc_history_md5": str(history_md5),
            "feature_service": params.features.feature_service, "feature_views": json_digest(views, 16)} | {
        k.replace(".", "_"): v for k, v in _provenance_tags(validation).items()}


def _log_datasets(params: Params, test: pd.DataFrame) -> None:
    """The training set and the test split as MLflow datasets (schema, digest, source; no upload), so the
    run lists them in the MLflow UI."""
    import mlflow

    lay = params.layout
    training = pd.read_parquet(lay.training_set)
    with warnings.catch_warnings():       # MLflow's hints on string sources and integer columns: expected here
        warnings.simplefilter("ignore", UserWarning)
        mlflow.log_input(mlflow.data.from_pandas(training, source=str(lay.training_set), name="training_set",
                                                 targets=params.dataset.label), context="training")
        mlflow.log_input(mlflow.data.from_pandas(test, source=str(lay.predictions), name="test_split",
                                                 targets=params.dataset.label, predictions="prediction"),
                         context="evaluation")


def _model_card(params: Params, decision, training: TrainingSummary, evaluation: EvaluationReport,
                benchmark: BenchmarkResult | None, provenance: dict[str, str]) -> None:
    """The version's model card, Markdown and HTML, on the run (model_card/) and in the reports."""
    import mlflow

    from accelops.html import page as html_page
    from accelops.registry import model_card

    text = model_card.render(params, decision, training, evaluation, benchmark, provenance)
    page = html_page(text, f"{params.register_.model_name} v{decision.version}")
    lay = params.layout
    lay.model_card.parent.mkdir(parents=True, exist_ok=True)
    lay.model_card.write_text(text)
    lay.model_card_html.write_text(page)
    mlflow.log_text(text, "model_card/model_card.md")
    mlflow.log_text(page, "model_card/model_card.html")


def _provenance_tags(validation: BatchReport | None) -> dict[str, str]:
    """The training input's content hash, the suite version and the reference profile, as run tags."""
    prov = validation.provenance if validation is not None else None
    get = (lambda key: str(getattr(prov, key))) if prov is not None else (lambda key: "None")
    return {"data.source": get("source"), "data.source_sha256": get("source_sha256"),
            "validation.suite_version": get("suite_version"), "validation.reference_profile": get("reference_profile")}


def _log_benchmark(params: Params, result: BenchmarkResult) -> Recommendation:
    """Benchmark table, JSON and plots as artifacts, the recommendation as tags; returns it."""
    import mlflow

    mlflow.log_artifacts(str(params.layout.benchmark_dir), artifact_path="benchmark")
    rec = result.recommendation
    tags = {"serving.meets_online_objective": str(rec.meets_online_objective).lower(),
            "serving.online_reason": rec.online_reason[:500], "serving.batch_reason": rec.batch_reason[:500]}
    for mode, choice in (("online", rec.online), ("batch", rec.batch)):
        if choice is not None:
            tags |= {f"serving.{mode}.variant": choice.variant, f"serving.{mode}.batch_size": str(choice.batch_size),
                     f"serving.{mode}.p99_ms": f"{choice.p99_ms:.4f}",
                     f"serving.{mode}.cost_per_million_usd": f"{choice.cost_per_million:.3g}"}
    mlflow.set_tags(tags)
    return rec
