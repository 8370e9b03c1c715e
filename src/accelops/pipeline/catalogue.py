"""What each stage reads and writes: params keys and catalogue entries (accelops.layout names).

This is the one declaration of the stages' inputs and outputs. `dvc.yaml` is rendered from it
(`accelops dvc-yaml --write`; a test keeps the committed file equal to the rendering), and
tests/integration/test_stage_io.py runs every stage under a file tracer and a params recorder and
fails when a stage opens, writes or reads a params key it does not declare here, or declares one
it never uses. So `dvc repro` cannot say "up to date" when a stage's real inputs changed.

`state` entries are files a stage reads or writes outside DVC's versioning, each for a stated
reason (tool state such as the MLflow store, a secret, raw rejected rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accelops.config import Params
from accelops.layout import Layout

STATE_REASONS = {
    "mlflow_dir": "the MLflow tracking store and artifacts: the registry's own versioning",
    "feast_dir": "the Feast registry, feature_store.yaml and online store: the feature store's own state",
    "pii_key_file": "the PII hashing key: a secret, never versioned",
    "quarantine_dir": "raw rejected rows (may hold PII): local only, written only when rows fail",
    "checkpoints_dir": "crash-recovery checkpoints, removed when training completes",
    "champion_lock": "serialises moves of @champion between processes (compare-and-set)",
    "dvc_lock": "DVC's own record of the data revision, read for the version's provenance",
    "tuning_study": "Optuna's journal of the searches (train.tuning): finished trials survive a failed run",
    "training_sets_dir": "registered versions' training sets by content hash: the monitoring flow's drift reference",
}


@dataclass(frozen=True)
class StageIO:
    params: tuple[str, ...]            # params.yaml keys read: "section" or "section.key" (paths are implied)
    deps: tuple[str, ...]              # catalogue entries read
    outs: tuple[str, ...] = ()         # catalogue entries written and cached by DVC
    reports: tuple[str, ...] = ()      # catalogue entries written, not cached (small JSON, HTML, plots)
    metrics: tuple[str, ...] = ()      # written DVC metrics files (not cached)
    code: tuple[str, ...] = ()         # source paths (relative to the repository): a change reruns the stage
    state: tuple[str, ...] = ()        # catalogue entries read or written outside DVC (see STATE_REASONS)

    def entries(self) -> tuple[str, ...]:
        return (*self.outs, *self.reports, *self.metrics)


_LABEL_CHECK = ("validate.label_check", "validate.label_folds", "validate.label_fit_rows", "train.threads", "train.seed",
                "orchestration")        # where the folds run (accelops.fanout); the result is the same
_MODEL_INPUTS = ("dataset", "features.windows")     # the model's contract (Params.model_contract)

STAGE_IO: dict[str, StageIO] = {
    "generate": StageIO(
        params=("generate",), deps=(), outs=("history",), reports=("history_manifest",),
        code=("src/accelops/data/generator.py",)),
    "reference": StageIO(
        params=("dataset", *_LABEL_CHECK), deps=("reference_data",),
        reports=("reference_profile", "reference_label_quality"),
        code=("src/accelops/validation", "src/accelops/data/io.py", "src/accelops/fanout.py")),
    "validate": StageIO(
        params=("dataset", "validate", "pii", "train.threads", "train.seed", "orchestration"),
        deps=("history", "reference_profile", "reference_label_quality"), outs=("validated",),
        reports=("validation_report", "validation_html", "data_docs", "label_quality_report", "label_issues"),
        code=("src/accelops/validation", "src/accelops/data/io.py", "src/accelops/fanout.py",
              "src/accelops/pipeline/label_check.py"),
        state=("quarantine_dir", "pii_key_file", "history_pointer")),
    "features": StageIO(
        params=("dataset", "features", "orchestration"), deps=("validated", "feature_repo"),
        outs=("features_table", "training_set"), reports=("feature_stats",),
        code=("src/accelops/features", "src/accelops/fanout.py"), state=("feast_dir",)),
    "train": StageIO(
        params=(*_MODEL_INPUTS, "train", "evaluate.membership_rows"), deps=("training_set",),
        outs=("model_dir", "candidates_dir", "predictions", "valid_predictions"),
        reports=("training_summary", "training_curves"),
        code=("src/accelops/training", "src/accelops/evaluation/calibration.py", "src/accelops/evaluation/metrics.py"),
        state=("checkpoints_dir", "active_run", "tuning_study")),
    "evaluate": StageIO(
        params=(*_MODEL_INPUTS, "evaluate", "train.seed", "train.split", "train.threads", "orchestration"),
        deps=("predictions", "valid_predictions", "training_set", "model_dir"),
        reports=("evaluation_dir",), metrics=("metrics_file",),
        code=("src/accelops/evaluation", "src/accelops/fanout.py")),
    "benchmark": StageIO(
        params=(*_MODEL_INPUTS, "benchmark", "train.split", "train.seed", "evaluate.membership_rows"),
        deps=("predictions", "training_set", "model_dir"), outs=("serving_dir",), reports=("benchmark_dir",),
        code=("src/accelops/serving",)),
    "register": StageIO(
        params=("dataset", "features", "register", "benchmark.enabled", "benchmark.gate",
                "evaluate.min_slice_support", "evaluate.sensitive", "train.seed", "train.split",
                "monitor.ledger_url"),
        deps=("evaluation_dir", "metrics_file", "training_summary", "training_curves", "validation_report",
              "validation_html", "label_quality_report", "feature_stats", "data_docs", "benchmark_dir", "model_dir", "serving_dir",
              "predictions", "training_set"),
        reports=("registration_file", "model_card", "model_card_html"), code=("src/accelops/registry",),
        state=("mlflow_dir", "champion_lock", "dvc_lock", "training_sets_dir", "tuning_study")),
    "materialize": StageIO(
        params=("dataset.entity_id", "dataset.timestamp", "features"), deps=("features_table",),
        reports=("materialize_report",), code=("src/accelops/features",), state=("feast_dir",)),
}


def render_dvc_yaml(params: Params) -> str:
    """dvc.yaml for these params: every stage through `accelops stage NAME`, with the params keys,
    dependencies and outputs declared in STAGE_IO; paths templated on params.yaml's `paths`."""
    import yaml

    p = params.paths
    lay = Layout(root=Path("."), workdir=Path(p.workdir), history=Path(p.history),
                 feature_repo=Path(p.feature_repo) if p.feature_repo else None,
                 reference_data=Path(p.reference or p.history))
    templates = [(p.workdir, "${paths.workdir}"), (p.history, "${paths.history}")] + \
        [(getattr(p, key), f"${{paths.{key}}}") for key in ("feature_repo", "reference") if getattr(p, key)]

    def path(name: str) -> str:
        text = str(getattr(lay, name))
        for concrete, template in templates:
            if text == concrete or text.startswith(concrete.rstrip("/") + "/"):
                return template + text[len(concrete.rstrip("/")):]
        return text

    stages = {}
    for name, io in STAGE_IO.items():
        stage: dict = {"cmd": f"accelops stage {name}",
                       "deps": [*io.code, *(path(d) for d in io.deps if getattr(lay, d) is not None)]}
        if io.params:
            stage["params"] = list(io.params)
        outs = [path(o) for o in io.outs] + [{path(o): {"cache": False}} for o in io.reports]
        if outs:
            stage["outs"] = outs
        if io.metrics:
            stage["metrics"] = [{path(m): {"cache": False}} for m in io.metrics]
        stages[name] = stage
    header = ("# Rendered from accelops.pipeline.catalogue.STAGE_IO by `accelops dvc-yaml --write`: edit the\n"
              "# catalogue, not this file (tests/integration/test_stage_io.py keeps the two equal, and holds the\n"
              "# catalogue to what each stage really reads and writes). Run with the venv on PATH: `make repro`.\n")
    return header + yaml.safe_dump({"stages": stages}, sort_keys=False, width=120)
