"""The pipeline's stages as file-to-file functions over the layout in params.

`accelops stage NAME` (called by dvc.yaml) and the Prefect tasks both call these, so `dvc
repro` and the flows write the same files. Each returns a small JSON-able summary.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import Params
from accelops.data import io
from accelops.errors import StageInputMissing
from accelops.pipeline.files import need, write_json

log = logging.getLogger("accelops.stages")


def generate(params: Params, out: Path | None = None) -> dict:
    """The synthetic history described by params.generate."""
    from accelops.data.generator import generate as make, write

    g = params.generate
    data, manifest = write(make(g.rows, g.days, g.start, g.seed, g.scenario), out or params.layout.history)
    return {"data": str(data), "manifest": str(manifest), "rows": g.rows}


def validate(params: Params, data: Path | None = None) -> dict:
    """PII scan + Great Expectations suite from the contract + quarantine + label check, then PII
    protection; writes validated.parquet. Raises PiiDetectedError / DataValidationError /
    LabelQualityError (reports written first)."""
    from accelops.validation import batch_check, profile
    from accelops.validation.pii import protect

    lay = params.layout
    source = Path(data or lay.history).resolve()
    df = io.conform(io.read_table(source), params.dataset, source)
    checked = batch_check.check(df, params, str(source), lay.workdir / "quarantine", docs_dir=lay.reports / "data_docs")
    report_path = batch_check.write(checked, lay.reports / "validation.json")
    r = checked.report
    log.info("validation of %s: %d rows, %d/%d expectations passed (%d errors, %d warnings), %d rows quarantined",
             source, r.rows, r.evaluated - len(r.failures) - len(r.warnings), r.evaluated, len(r.failures),
             len(r.warnings), checked.quarantine["quarantined_rows"] if checked.quarantine else 0)
    accepted = checked.enforce()
    labels = _label_check(params, accepted, str(source)) if params.validate_.label_check else None
    if profile.save_if_missing(accepted, params.dataset, str(source), lay.reference_profile):
        log.info("reference profile written to %s (later batches are bounded by it)", lay.reference_profile)
    safe = protect(accepted, params.dataset.pii, params.pii, lay.pii_key_file, params.dataset.text)
    io.write_parquet(safe, lay.validated)
    return {"validated": str(lay.validated), "report": str(report_path), "rows": len(safe),
            "expectations": checked.report.evaluated, "pii_policy": params.pii.policy,
            "partial_acceptance": checked.partial, "label_quality": labels}


def _label_check(params: Params, df: pd.DataFrame, source: str) -> dict:
    """Confident-learning flags written for inspection (keys, label, out-of-fold probability only);
    blocks when the rate is well above the reference data's."""
    from accelops.validation.label_quality import check_against_reference, label_quality

    lay, c = params.layout, params.dataset
    summary, flags = label_quality(df, c, params.validate_.label_folds, params.train.threads, params.train.seed)
    flagged = df.loc[flags, [c.entity_id, c.timestamp, c.label]]
    io.write_parquet(flagged, lay.reports / "label_issues.parquet")
    result = summary.to_dict()
    write_json(result, lay.reports / "label_quality.json")
    result |= check_against_reference(summary, lay.workdir / "reference" / "label_quality.json",
                                      params.validate_.max_excess_label_issue_rate, source)
    write_json(result, lay.reports / "label_quality.json")
    log.info("label check: %d of %d rows (%.1f%%) flagged as likely label errors (reference %.1f%%)",
             summary.flagged, summary.rows, 100 * summary.rate, 100 * result["reference_rate"])
    return result


def features(params: Params) -> dict:
    """Feature table -> Feast apply -> point-in-time training set (features.engine: asof over
    Feast's registered definitions, or Feast's own offline store)."""
    from accelops.features import store as fs
    from accelops.features.build import entity_rows, feature_table

    lay = params.layout
    validated = pd.read_parquet(need(lay.validated, "validate"))
    table = feature_table(validated, params.dataset, params.features.windows)
    io.write_parquet(table, lay.features_table)
    store = fs.apply(params, lay.features_table)
    training, missing = fs.training_set(store, params, entity_rows(validated, params.dataset))
    io.write_parquet(training, lay.training_set)
    from accelops.features.asof import view_specs
    from accelops.features.stats import view_statistics

    views = {spec.name: list(spec.features) for spec in view_specs(store, params.features.feature_service)}
    stats = view_statistics(table, views)
    for name, count in missing.items():
        stats[name]["training_rows_missing"] = count
    write_json(stats, lay.reports / "feature_stats.json")
    log.info("training set: %d rows; rows with no feature row per view: %s", len(training), missing)
    return {"features": str(lay.features_table), "training_set": str(lay.training_set),
            "rows": len(training), "feature_service": params.features.feature_service, "missing_by_view": missing}


def train(params: Params) -> dict:
    """Time split, train on the chosen device (resuming a killed run from its checkpoint), the
    scikit-learn baseline on the same split, and predictions for evaluate/register."""
    from accelops.evaluation.plots import training_curves
    from accelops.registry.tracking import file_hash
    from accelops.training.baseline import train_baseline
    from accelops.training.export import export_onnx
    from accelops.training.predict import Predictor
    from accelops.training.split import time_split
    from accelops.training.train import train_model

    lay = params.layout
    c = params.model_contract
    df = pd.read_parquet(need(lay.training_set, "features"))
    split = time_split(df, c.timestamp, params.train.split)
    parts = {name: df[split == name].reset_index(drop=True) for name in ("train", "valid", "test")}
    fingerprint = file_hash(lay.training_set) + ":" + params.train.model_dump_json()
    result = train_model(parts["train"], parts["valid"], c, params.train, lay.model_dir,
                         checkpoint_dir=lay.workdir / "checkpoints", fingerprint=fingerprint)
    onnx = export_onnx(lay.model_dir, parts["test"].head(2048))
    predictor = Predictor(lay.model_dir)
    for name, path in (("test", lay.predictions), ("valid", lay.valid_predictions)):
        part = parts[name]
        part["logit"] = predictor.predict_logits(part)
        part["prediction"] = predictor.predict_proba(part)
        io.write_parquet(part, path)
    baseline, _ = train_baseline(parts["train"], parts["valid"], parts["test"], c, params.train.baseline_max_iter,
                                 params.train.threads, params.train.seed)
    training_curves(result.history, lay.reports / "training_curves.png")
    summary = result.to_dict() | {"rows": {s: len(p) for s, p in parts.items()}, "baseline": baseline,
                                  "onnx": onnx}
    write_json(summary, lay.reports / "training.json")
    log.info("trained on %s (%s, %s) in %.1f s, best valid AUC %.4f at epoch %d; baseline %s valid AUC %.4f",
             result.device, result.device_name, result.precision, result.seconds, result.best_valid_auc,
             result.best_epoch, "HistGradientBoosting", baseline["best_valid_auc"])
    return {"model_dir": str(lay.model_dir), "device": result.device, "precision": result.precision,
            "best_valid_auc": result.best_valid_auc, "epochs": result.epochs_run,
            "baseline_test_roc_auc": baseline["roc_auc"]}


def evaluate(params: Params) -> dict:
    """Metrics with intervals, calibration, slices, fairness, robustness and behavioural tests;
    writes evaluation.json (the gate's input), metrics.json (DVC metrics), PNGs and a summary."""
    from accelops.evaluation.report import evaluate_model, markdown_summary
    from accelops.training.predict import Predictor

    lay = params.layout
    c = params.model_contract
    test = pd.read_parquet(need(lay.predictions, "train"))
    valid = pd.read_parquet(need(lay.valid_predictions, "train"))
    predictor = Predictor(lay.model_dir)
    report = evaluate_model(test, valid, c, params.evaluate, lay.evaluation_dir, predictor.temperature,
                            score=predictor.predict_proba, fgsm=predictor.fgsm_proba, seed=params.train.seed)
    write_json(report, lay.evaluation_dir / "evaluation.json")
    (lay.evaluation_dir / "summary.md").write_text(markdown_summary(report))
    headline = {**report["overall"], "f1": report["at_threshold"]["f1"], "threshold": report["threshold"]["threshold"],
                "ece_before": report["calibration"]["before"]["ece"], "ece_after": report["calibration"]["after"]["ece"],
                "weak_slices": len(report["weak_slices"])}
    write_json(headline, lay.metrics_file)
    log.info("test ROC-AUC %.4f [%.4f, %.4f]  ECE %.4f -> %.4f  weak slices %d", report["overall"]["roc_auc"],
             report["intervals"]["roc_auc"]["low"], report["intervals"]["roc_auc"]["high"],
             headline["ece_before"], headline["ece_after"], headline["weak_slices"])
    return headline


def benchmark(params: Params) -> dict:
    """The accelerator benchmark of the challenger (every variant that runs here, a distilled student
    included) on the test split; writes reports/benchmark/* and serving/ (serving.json: the variants
    the serving path uses, and the student). Its online objective is an input to the promotion gate."""
    from accelops.serving.benchmark import run_benchmark
    from accelops.training.split import time_split

    lay = params.layout
    out = lay.reports / "benchmark"
    if not params.benchmark.enabled:
        import shutil

        shutil.rmtree(lay.serving_dir, ignore_errors=True)
        write_json({"enabled": False}, out / "benchmark.json")
        return {"enabled": False}
    test = pd.read_parquet(need(lay.predictions, "train"))
    df = pd.read_parquet(need(lay.training_set, "features"))
    train = df[time_split(df, params.dataset.timestamp, params.train.split) == "train"].reset_index(drop=True)
    result = run_benchmark(lay.model_dir, test, params.model_contract, params.benchmark, out, lay.serving_dir,
                           train_df=train, seed=params.train.seed)
    rec = result["recommendation"]
    return {"enabled": True, "variants": len(result["variants"]), "seconds": round(result["seconds"], 1),
            "online": rec["online"] and rec["online"]["variant"], "batch": rec["batch"] and rec["batch"]["variant"],
            "meets_online_objective": rec["meets_online_objective"]}


def register(params: Params, reason: str = "scheduled") -> dict:
    """Log the run to MLflow, register a version and apply the promotion gate."""
    import mlflow

    from mlflow.entities import Metric

    from accelops.evaluation.metrics import overall_metrics
    from accelops.evaluation.report import flat_metrics
    from accelops.registry import tracking
    from accelops.registry.promotion import register_and_gate

    lay = params.layout
    c = params.model_contract
    need(lay.metrics_file, "evaluate")
    if params.benchmark.enabled:
        bench = json.loads(need(lay.reports / "benchmark" / "benchmark.json", "benchmark").read_text())
        if bench.get("model_hash") != tracking.file_hash(lay.model_dir / "model.pt"):
            raise StageInputMissing(f"{lay.reports / 'benchmark'} is for another model: run the 'benchmark' "
                                    "stage on the current one first")
    evaluation = json.loads((lay.evaluation_dir / "evaluation.json").read_text())
    training = json.loads((lay.reports / "training.json").read_text())
    test = pd.read_parquet(lay.predictions)
    features_only = test[c.feature_columns]

    client = tracking.connect(params)
    with mlflow.start_run(run_name=f"train-{time.strftime('%Y%m%d-%H%M%S')}") as run:
        mlflow.log_params(tracking.flatten({k: v for k, v in params.model_dump(by_alias=True).items()
                                            if k in ("train", "features", "validate", "pii", "evaluate")}))
        mlflow.set_tags({"git_commit": tracking.git_commit(lay.root),
                         "data_hash": tracking.file_hash(lay.training_set),
                         "params_hash": tracking.params_hash(params),
                         "device": training["device"], "device_name": training["device_name"],
                         "torch_version": _version("torch"), "precision": training["precision"],
                         "threads": str(training["threads"]),
                         "trigger": reason})
        now = int(time.time() * 1000)
        batch = [Metric(k, v, now, 0) for k, v in flat_metrics(evaluation).items()]
        for h in training["history"]:
            batch += [Metric(k, h[k], now, h["epoch"]) for k in ("train_loss", "valid_auc", "lr")]
        base = training["baseline"]
        batch += [Metric(f"baseline_test_{k}", float(base[k]), now, 0) for k in ("roc_auc", "pr_auc", "log_loss", "brier")]
        batch.append(Metric("network_minus_baseline_auc", evaluation["overall"]["roc_auc"] - base["roc_auc"], now, 0))
        batch.append(Metric("train_seconds", training["seconds"], now, 0))
        batch.append(Metric("onnx_max_abs_logit_diff", training["onnx"]["max_abs_diff"], now, 0))
        client.log_batch(run.info.run_id, metrics=batch)
        for f in ("validation.json", "label_quality.json", "feature_stats.json", "training.json", "metrics.json",
                  "training_curves.png"):
            if (lay.reports / f).exists():
                mlflow.log_artifact(str(lay.reports / f), artifact_path="reports")
        if (lay.reports / "data_docs" / "index.html").exists():
            mlflow.log_artifacts(str(lay.reports / "data_docs"), artifact_path="data_docs")
        mlflow.set_tags(_provenance_tags(lay.reports / "validation.json"))
        mlflow.log_artifacts(str(lay.evaluation_dir), artifact_path="evaluation")
        serving = _log_benchmark(lay.reports / "benchmark")
        model_uri = tracking.log_model(lay.model_dir, features_only.head(5), test["prediction"].head(5).to_numpy(),
                                       serving_dir=lay.serving_dir if serving is not None else None)

        def score_champion(uri: str) -> float:
            champion = mlflow.pyfunc.load_model(uri)
            return overall_metrics(test[c.label].to_numpy(), np.asarray(champion.predict(features_only)))["roc_auc"]

        objective = serving if params.benchmark.enabled and params.benchmark.gate else None
        decision = register_and_gate(client, params.register_.model_name, model_uri, run.info.run_id,
                                     evaluation["overall"]["roc_auc"], score_champion, params.register_.min_auc_gain,
                                     serving=objective)
        mlflow.set_tags({"gate.decision": "promoted" if decision.promoted else "rejected",
                         "gate.reason": decision.reason, "registered_version": decision.version})
    out = decision.to_dict() | {"run_id": run.info.run_id, "model_uri": model_uri, "trigger": reason}
    write_json(out, lay.registration_file)
    log.info("registered %s v%s: %s (%s)", decision.model_name, decision.version,
             "PROMOTED to @champion" if decision.promoted else "champion kept", decision.reason)
    return out


def _provenance_tags(validation_file: Path) -> dict:
    """The training input's content hash, the suite version and the reference profile, as run tags."""
    prov = (json.loads(validation_file.read_text()).get("provenance") or {}) if validation_file.exists() else {}
    return {"data.source": str(prov.get("source")), "data.source_sha256": str(prov.get("source_sha256")),
            "validation.suite_version": str(prov.get("suite_version")),
            "validation.reference_profile": str(prov.get("reference_profile"))}


def _log_benchmark(folder: Path) -> dict | None:
    """Benchmark table, JSON and plots as artifacts, the recommendation as tags; returns it."""
    import mlflow

    path = folder / "benchmark.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    if "recommendation" not in result:
        return None
    mlflow.log_artifacts(str(folder), artifact_path="benchmark")
    rec = result["recommendation"]
    tags = {"serving.meets_online_objective": str(rec["meets_online_objective"]).lower(),
            "serving.online_reason": rec["online_reason"][:500], "serving.batch_reason": rec["batch_reason"][:500]}
    for mode in ("online", "batch"):
        if (c := rec[mode]) is not None:
            tags |= {f"serving.{mode}.variant": c["variant"], f"serving.{mode}.batch_size": str(c["batch_size"]),
                     f"serving.{mode}.p99_ms": f"{c['p99_ms']:.4f}",
                     f"serving.{mode}.cost_per_million_usd": f"{c['cost_per_million']:.3g}"}
    mlflow.set_tags(tags)
    return rec


def materialize(params: Params) -> dict:
    """Latest feature values per entity into the online store (whole history span)."""
    from accelops.features import store as fs

    lay = params.layout
    table = pd.read_parquet(need(lay.features_table, "features"))
    store = fs.open_store(params)
    out = fs.materialize(store, params, table)
    write_json(out, lay.reports / "materialize.json")
    return out


def _version(pkg: str) -> str:
    from importlib import metadata

    return metadata.version(pkg)


TRAINING_STAGES = ("validate", "features", "train", "evaluate", "benchmark", "register", "materialize")
STAGES = {"generate": generate, "validate": validate, "features": features, "train": train,
          "evaluate": evaluate, "benchmark": benchmark, "register": register, "materialize": materialize}
