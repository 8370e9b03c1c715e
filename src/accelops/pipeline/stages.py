"""The pipeline's stages as file-to-file functions over the layout in params.

`accelops stage NAME` (called by dvc.yaml) and the Prefect tasks both call these, so `dvc
repro` and the flows write the same files. Each returns one typed result (a pydantic model) and
writes it as JSON where `accelops.layout` says; `STAGE_IO` in accelops.pipeline.catalogue declares
what each stage reads and writes, and a test holds dvc.yaml to it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import Params
from accelops.data import io
from accelops.data.io import Generated
from accelops.errors import DataValidationError, StageInputMissing
from accelops.evaluation.schema import EvaluationReport
from accelops.fanout import fanout
from accelops.features.schema import FeaturesSummary, MaterializeSummary
from accelops.pipeline.files import need, read_model, write_json, write_model
from accelops.registry.promotion import Registration
from accelops.serving.schema import OUTCOME, BenchmarkResult, BenchmarkSkipped
from accelops.training.schema import OnnxExport, TrainingSummary
from accelops.validation.batch_check import BatchReport
from accelops.validation.label_quality import LabelCheck
from accelops.validation.profile import ReferenceSummary

log = logging.getLogger("accelops.stages")


def generate(params: Params, out: Path | None = None) -> Generated:
    """The synthetic history described by params.generate."""
    from accelops.data.generator import generate as make, write

    g = params.generate
    frame = make(g.rows, g.days, g.start, g.seed, g.scenario)
    data, manifest = write(frame, out) if out else write(frame, params.layout.history, params.layout.history_manifest)
    return Generated(data=str(data), manifest=str(manifest), rows=g.rows)


def reference(params: Params) -> ReferenceSummary:
    """The reference the suite and the label check bound later batches by: the profile (means,
    quantiles, category shares, label rate) and the label-error rate of `paths.reference` (default: the
    history), over its rows that pass the contract's row rules. Recomputed only when that file changed."""
    from accelops.hashing import file_sha256
    from accelops.validation import profile
    from accelops.validation.label_quality import ReferenceLabels, label_quality

    lay, contract, v = params.layout, params.dataset, params.validate_
    source = lay.reference_data.resolve()
    sha = file_sha256(need(source, "generate"))
    current = profile.load(lay.reference_profile)
    labels_ok = not v.label_check or lay.reference_label_quality.exists()
    if current is not None and current.get("source_sha256") == sha and labels_ok:
        log.info("reference of %s is up to date", source)
        return ReferenceSummary(source=str(source), source_sha256=sha, rows=current["rows"], recomputed=False)
    rows = profile_rows(params, str(source))
    write_json(profile.build_profile(rows, contract, str(source), sha), lay.reference_profile)
    if v.label_check:
        with fanout(params.orchestration) as fan:
            summary, _ = label_quality(rows, contract, v.label_folds, params.train.threads, params.train.seed,
                                       v.label_fit_rows, fan)
        write_model(ReferenceLabels(**summary.model_dump(), source=str(source), source_sha256=sha),
                    lay.reference_label_quality)
    log.info("reference profile of %s (%d rows) written to %s", source, len(rows), lay.reference_profile)
    return ReferenceSummary(source=str(source), source_sha256=sha, rows=len(rows), recomputed=True)


def validate(params: Params, data: Path | None = None, new_after: str | None = None) -> BatchReport:
    """PII scan + Great Expectations suite from the contract and the reference + quarantine + label
    check, then PII protection; writes validated.parquet and validation.json. Raises PiiDetectedError /
    DataValidationError / LabelQualityError (reports written first). `new_after` (a timestamp; a
    drift-triggered retraining's data): the label check judges only the rows after it, by a model fit
    on them, so a concept that moved is not mistaken for flipped labels (the older rows were checked
    when they were trained on). Accepted data with `new_after` becomes the current history
    (accelops.pipeline.history), which the flows train on when given no data; DVC's stage reads
    paths.history only."""
    from accelops.validation import batch_check
    from accelops.validation.pii import protect

    from accelops.pipeline import history
    from accelops.pipeline.label_check import label_check

    lay = params.layout
    source = Path(data or lay.history).resolve()
    df = io.conform(io.read_table(source, strings=[*params.dataset.pii, *params.dataset.text]), params.dataset, source)
    with fanout(params.orchestration) as fan:        # the suite's row-wise rules per entity partition, the label folds
        checked = batch_check.check(df, params, str(source), lay.quarantine_dir, docs_dir=lay.data_docs, fan=fan)
        batch_check.write(checked, lay.validation_report)
        r = checked.report
        log.info("validation of %s: %d rows, %d/%d expectations passed (%d errors, %d warnings), %d rows quarantined",
                 source, r.rows, r.evaluated - len(r.failures) - len(r.warnings), r.evaluated, len(r.failures),
                 len(r.warnings), checked.quarantine["quarantined_rows"] if checked.quarantine else 0)
        accepted = checked.enforce()
        if (classes := accepted[params.dataset.label].nunique()) < 2:      # nothing to learn: stop with the rule
            raise DataValidationError(str(source), [{
                "column": params.dataset.label, "rule": "training data needs both label classes",
                "observed": f"{classes} class(es): {sorted(accepted[params.dataset.label].unique().tolist())}",
                "expected": "0 and 1"}])
        labels = label_check(params, accepted, str(source), new_after, fan) if params.validate_.label_check else None
    safe = protect(accepted, params.dataset.pii, params.pii, lay.pii_key_file, params.dataset.text)
    io.write_parquet(safe, lay.validated)
    report = checked.summary().model_copy(update={"label_quality": labels, "validated": str(lay.validated)})
    write_model(report, lay.validation_report)
    if data is not None and new_after is not None:     # a drift retraining's data, accepted: the history grows
        history.advance(params, source, len(accepted), f"retraining data accepted (rows after {new_after} new)")
    return report


def profile_rows(params: Params, source: str) -> pd.DataFrame:
    """The reference data's rows that pass the contract's row rules (what the reference stage used),
    read without the PII and free-text columns: the profile and the label check never look at them, and
    at 10M rows they were a third of the frame."""
    from accelops.validation import profile

    contract = params.dataset.model_copy(update={"pii": [], "text": []})
    return profile.contract_rows(io.conform(io.read_table(source, columns=contract.columns), contract, source),
                                 contract)


def features(params: Params) -> FeaturesSummary:
    """Feature table -> Feast apply -> point-in-time training set (features.engine: asof over
    Feast's registered definitions, or Feast's own offline store) -> statistics per view."""
    from accelops.features import store as fs
    from accelops.features.asof import view_specs
    from accelops.features.build import entity_rows, feature_table
    from accelops.features.stats import view_statistics

    lay = params.layout
    validated = pd.read_parquet(need(lay.validated, "validate"))
    # each table is dropped once used: at 10M rows the validated rows, the feature table and the
    # training set are ~2 GB each, and holding all three put the stage over the 12 GB budget
    with fanout(params.orchestration) as fan:           # window aggregates and the as-of join per entity partition
        entities = entity_rows(validated, params.dataset)
        table = feature_table(validated, params.dataset, params.features.windows, fan)
        del validated
        io.write_parquet(table, lay.features_table)
        store = fs.apply(params, lay.features_table)
        views = view_statistics(table, {spec.name: list(spec.features)
                                        for spec in view_specs(store, params.features.feature_service)})
        del table
        training, missing = fs.training_set(store, params, entities, fan)
        del entities
    io.write_parquet(training, lay.training_set)
    for name, count in missing.items():
        views[name].training_rows_missing = count
    summary = FeaturesSummary(features_table=str(lay.features_table), training_set=str(lay.training_set),
                              rows=len(training), feature_service=params.features.feature_service, views=views)
    write_model(summary, lay.feature_stats)
    log.info("training set: %d rows; rows with no feature row per view: %s", len(training), missing)
    return summary


def split_parts(params: Params, names: tuple[str, ...] = ("train", "valid", "test")) -> dict[str, pd.DataFrame]:
    """The training set's rows of each named part (by event time; the same split in every stage; "audit":
    the train period's rows held out of fitting for the membership audit)."""
    from accelops.training.split import split_rows

    df = pd.read_parquet(need(params.layout.training_set, "features"))
    split = split_rows(df, params.model_contract, params.train.split, params.train.seed,
                       params.evaluate.membership_rows)
    return {name: _rows(df, split == name) for name in names}


def _rows(df: pd.DataFrame, mask) -> pd.DataFrame:
    """The rows where `mask` holds, renumbered from 0, in one copy (a boolean filter then
    reset_index copies twice)."""
    out = df.take(np.flatnonzero(np.asarray(mask)))
    out.index = pd.RangeIndex(len(out))
    return out


def train(params: Params, map_trials=None) -> TrainingSummary:
    """Time split; the network on the chosen device (resuming a killed run from its checkpoint) and the
    gradient-boosting baseline on the same split and inputs, each saved as a candidate; the one with the
    best validation AUC among train.candidates becomes the challenger (model_dir). Writes the
    challenger's test and validation predictions, with every candidate's test probability beside them."""
    from accelops.evaluation.plots import training_curves
    from accelops.hashing import file_sha256
    from accelops.training import model_folder
    from accelops.training.baseline import train_baseline
    from accelops.training.export import export_onnx
    from accelops.training import tuning
    from accelops.training.predict import Predictor
    from accelops.training.train import train_model

    from accelops.pipeline.tuning import search

    lay = params.layout
    contract = params.model_contract
    tuned = search(params, map_trials)                  # train.tuning: the best values of the study, or None
    if tuned is not None:
        params = params.model_copy(update={"train": tuning.apply(params.train, tuned.best_values)})
        log.info("tuning: trial %d of %d, valid AUC %.4f vs %.4f as written: %s", tuned.best_number,
                 len(tuned.trials), tuned.best_valid_auc, tuned.default_valid_auc, tuned.best_values)
    parts = split_parts(params)
    fingerprint = file_sha256(lay.training_set) + ":" + params.train.model_dump_json()
    network_dir = lay.candidate_dir("network")
    from accelops.registry import tracking

    def live(epoch: int, record: dict) -> None:       # the flow's MLflow run charts each epoch as it ends
        tracking.log_live(params, {k: record[k] for k in ("train_loss", "valid_auc", "lr")}, step=epoch)

    if params.train.distributed.enabled:              # torchrun: DDP processes (and hosts), rank 0 logs live
        from accelops.training.distributed import launch

        run_id = tracking.active_run(params)
        result = launch(params, network_dir, lay.checkpoints_dir, fingerprint,
                        live=(tracking.tracking_uri(params), run_id) if run_id else None)
    else:
        result = train_model(parts["train"], parts["valid"], contract, params.train, network_dir,
                             checkpoint_dir=lay.checkpoints_dir, fingerprint=fingerprint, on_epoch_end=live)
    onnx = export_onnx(network_dir, parts["test"].head(2048))
    baseline, _ = train_baseline(parts["train"], parts["valid"], parts["test"], contract.label,
                                 model_folder.read_preprocessor(network_dir), lay.candidate_dir("boosting"),
                                 params.train.baseline_max_iter, params.train.threads, params.train.seed)
    valid_auc = {"network": result.best_valid_auc, "boosting": baseline.best_valid_auc}
    allowed = list(params.train.candidates)
    chosen = max(allowed, key=lambda k: (valid_auc[k], -allowed.index(k)))
    why = (f"{chosen}: validation AUC " + ", ".join(f"{k} {valid_auc[k]:.4f}" for k in allowed)
           + ("" if len(allowed) > 1 else f" (the only candidate allowed by train.candidates; "
              f"{'boosting' if chosen == 'network' else 'network'} scored "
              f"{valid_auc['boosting' if chosen == 'network' else 'network']:.4f})"))
    model_folder.copy(lay.candidate_dir(chosen), lay.model_dir)
    predictor = Predictor(lay.model_dir, threads=params.train.threads)
    for name, path in (("test", lay.predictions), ("valid", lay.valid_predictions)):
        part = parts[name]
        part["logit"] = predictor.predict_logits(part)
        part["prediction"] = predictor.predict_proba(part)
        if name == "test":
            for kind in model_folder.KINDS:
                part[model_folder.candidate_column(kind)] = (part["prediction"] if kind == chosen else
                                                Predictor(lay.candidate_dir(kind), threads=params.train.threads)
                                                .predict_proba(part))
        io.write_parquet(part, path)
    summary = TrainingSummary(**result.model_dump(), rows={s: len(p) for s, p in parts.items()},
                              baseline=baseline, onnx=OnnxExport.model_validate(onnx), challenger=chosen,
                              valid_auc=valid_auc, challenger_reason=why, tuning=tuned)
    training_curves([h.model_dump() for h in summary.history], lay.training_curves)
    write_model(summary, lay.training_summary)
    log.info("trained on %s (%s, %s) in %.1f s, best valid AUC %.4f at epoch %d; baseline %s valid AUC %.4f; "
             "challenger: %s", result.device, result.device_name, result.precision, result.seconds,
             result.best_valid_auc, result.best_epoch, "HistGradientBoosting", baseline.best_valid_auc, why)
    return summary


def evaluate(params: Params) -> EvaluationReport:
    """Metrics with intervals, calibration, slices, fairness, robustness and behavioural tests;
    writes evaluation.json (the gate's input), metrics.json (DVC metrics), PNGs and a summary."""
    from accelops.evaluation.report import evaluate_model, markdown_summary
    from accelops.html import page
    from accelops.training.predict import Predictor

    lay = params.layout
    test = pd.read_parquet(need(lay.predictions, "train"))
    valid = pd.read_parquet(need(lay.valid_predictions, "train"))
    predictor = Predictor(lay.model_dir, threads=params.train.threads)
    with fanout(params.orchestration) as fan:
        report = evaluate_model(test, valid, params.model_contract, params.evaluate, lay.evaluation_dir,
                                predictor.temperature, score=predictor.predict_proba,
                                fgsm=predictor.fgsm_proba if predictor.differentiable else None,
                                seed=params.train.seed, members=_training_rows(params),
                                non_members=_training_rows(params, "audit"), fan=fan)
    write_model(report, lay.evaluation_report)
    lay.evaluation_summary.write_text(markdown_summary(report))
    lay.evaluation_summary.with_suffix(".html").write_text(page(markdown_summary(report), "evaluation"))
    write_json(report.headline(), lay.metrics_file)
    auc = report.intervals["roc_auc"]
    log.info("test ROC-AUC %.4f [%.4f, %.4f]  ECE %.4f -> %.4f  weak slices %d", auc.value, auc.low, auc.high,
             report.calibration.before.ece, report.calibration.after.ece, len(report.weak_slices))
    return report


def _training_rows(params: Params, part: str = "train") -> pd.DataFrame:
    """The rows the model was fitted on (the training set's train split), or another part (split_parts)."""
    return split_parts(params, (part,))[part]


def benchmark(params: Params) -> BenchmarkResult | BenchmarkSkipped:
    """The accelerator benchmark of the challenger (every variant that runs here, a distilled student
    included) on the test split; writes reports/benchmark/* and serving/ (serving.json: the variants
    the serving path uses, and the student). Its online objective is an input to the promotion gate."""
    import pyarrow.parquet as pq

    from accelops.serving.benchmark import run_benchmark

    lay = params.layout
    if not params.benchmark.enabled:
        import shutil

        shutil.rmtree(lay.serving_dir, ignore_errors=True)
        skipped = BenchmarkSkipped()
        write_model(skipped, lay.benchmark_result)
        return skipped
    test = pd.read_parquet(need(lay.predictions, "train"))
    train = _training_rows(params)
    rows = pq.ParquetFile(lay.training_set).metadata.num_rows
    return run_benchmark(lay.model_dir, test, params.model_contract, params.benchmark, lay.benchmark_dir,
                         lay.serving_dir, train_df=train, seed=params.train.seed, data_rows=rows)


def register(params: Params, reason: str = "scheduled") -> Registration:
    """Log the run to MLflow, register a version and apply the promotion gate (accelops.registry)."""
    from accelops.registry.challenger import register_challenger
    from accelops.training.model_folder import weights_hash

    lay = params.layout
    evaluation = read_model(EvaluationReport, lay.evaluation_report, "evaluate")
    training = read_model(TrainingSummary, lay.training_summary, "train")
    validation = BatchReport.model_validate_json(lay.validation_report.read_text()) \
        if lay.validation_report.exists() else None
    bench = None
    if params.benchmark.enabled:
        bench = OUTCOME.validate_json(need(lay.benchmark_result, "benchmark").read_text())
        if not isinstance(bench, BenchmarkResult) or bench.model_hash != weights_hash(lay.model_dir):
            raise StageInputMissing(f"{lay.benchmark_dir} is for another model: run the 'benchmark' "
                                    "stage on the current one first")
    test = pd.read_parquet(need(lay.predictions, "train"))
    registration = register_challenger(params, reason, training, evaluation, bench, validation, test)
    _archive_training_set(params)
    write_model(registration, lay.registration_file)
    log.info("registered %s v%s: %s (%s)", registration.model_name, registration.version,
             "PROMOTED to @champion" if registration.promoted else "champion kept", registration.reason)
    return registration


def _archive_training_set(params: Params) -> Path:
    """Keep the registered version's training set under its content hash (the version's
    prov.training_set_sha256), so drift is measured against the champion's own data later."""
    import shutil

    from accelops.hashing import file_sha256

    lay = params.layout
    target = lay.training_set_of(file_sha256(lay.training_set))
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(lay.training_set, tmp)
        tmp.replace(target)
    return target


def materialize(params: Params) -> MaterializeSummary:
    """Latest feature values per entity into the online store (incremental; old history covered)."""
    from accelops.features import store as fs

    table = pd.read_parquet(need(params.layout.features_table, "features"))
    store = fs.open_store(params)
    if lost := fs.lost_views(store, params):      # the online file deleted, Redis flushed, the registry reset
        log.warning("the online store no longer holds %s (deleted or flushed since its last load): "
                         "re-registering and reloading in full", ", ".join(lost))
        store = fs.apply(params, params.layout.features_table)      # recreates the tables (and the registry)
    summary = fs.materialize(store, params, table, reload=lost)
    write_model(summary, params.layout.materialize_report)
    return summary


TRAINING_STAGES = ("reference", "validate", "features", "train", "evaluate", "benchmark", "register", "materialize")
STAGES = {"generate": generate, "reference": reference, "validate": validate, "features": features, "train": train,
          "evaluate": evaluate, "benchmark": benchmark, "register": register, "materialize": materialize}
