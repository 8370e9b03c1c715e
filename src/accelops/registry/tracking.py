"""MLflow tracking: one experiment per dataset, one run per training, model logged with
signature, input example and explicit pip requirements (inference costs ~30 s)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pandas as pd

from accelops.config import Params
from accelops.hashing import json_digest

RUNTIME_REQUIREMENTS = ("torch", "numpy", "pandas", "scikit-learn", "scipy", "pydantic", "pyyaml", "mlflow",
                        "onnxruntime")


def tracking_uri(params: Params) -> str:
    if params.register_.tracking_uri:
        return params.register_.tracking_uri
    db = params.layout.mlflow_db
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db}"


def connect(params: Params):
    """Point MLflow at the configured store; create the experiment with a local artifact root."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(params))
    name = params.register_.experiment
    exp = mlflow.get_experiment_by_name(name)
    if exp is None and tracking_uri(params).startswith(("http://", "https://")):
        mlflow.create_experiment(name, tags={"dataset": params.dataset.name})     # the server's artifact store
    elif exp is None:
        artifacts = params.layout.mlflow_artifacts.resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri(),
                                 tags={"dataset": params.dataset.name})
    mlflow.set_experiment(name)
    return mlflow.MlflowClient()


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else str(v)
    return out


def params_hash(params: Params) -> str:
    return json_digest(params.model_dump(mode="json", by_alias=True))


def git_commit(root: Path) -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pip_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in RUNTIME_REQUIREMENTS]


def log_model(model_dir: Path, example: pd.DataFrame, probabilities, serving_dir: Path | None = None) -> str:
    """Log the model as pyfunc from code (accelops shipped as code_paths), with the benchmark's
    serving directory (recommended variants, student) when given; returns its URI."""
    import mlflow
    from mlflow.models import infer_signature

    import accelops

    entry = Path(__file__).with_name("pyfunc_entry.py")
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(entry),
        artifacts={"model_dir": str(model_dir)} | ({"serving_dir": str(serving_dir)} if serving_dir else {}),
        code_paths=[str(Path(accelops.__file__).parent)],
        signature=infer_signature(example, probabilities),
        input_example=example,
        pip_requirements=pip_requirements(),
    )
    return info.model_uri


def log_monitoring_window(params: Params, metrics: dict[str, float], evidence: dict, name: str) -> str:
    """One drift window on the model's monitoring timeline: a run in `<register.experiment>-monitoring`
    (one per model, found by its tag) whose metrics get one point per window (step = window number,
    timestamp = now), so the MLflow UI charts drift over time; the window's evidence as a JSON artifact
    (windows/NAME.json). Returns the run id."""
    import time

    import mlflow
    from mlflow.entities import Metric

    connect(params)
    client = mlflow.MlflowClient()
    model = params.register_.model_name
    experiment = f"{params.register_.experiment}-monitoring"
    exp = client.get_experiment_by_name(experiment)
    served = tracking_uri(params).startswith(("http://", "https://"))     # the server's artifact store
    exp_id = exp.experiment_id if exp else client.create_experiment(
        experiment, artifact_location=None if served else params.layout.mlflow_artifacts.resolve().as_uri(),
        tags={"accelops.monitoring_of": model})
    runs = client.search_runs([exp_id], filter_string=f"tags.`accelops.timeline` = '{model}'", max_results=1)
    run_id = runs[0].info.run_id if runs else client.create_run(
        exp_id, tags={"accelops.timeline": model}, run_name=f"drift timeline: {model}").info.run_id
    history = client.get_metric_history(run_id, "drift_share")
    step, now = len(history), int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()])
    client.log_dict(run_id, evidence, f"windows/{step:05d}_{name}.json")
    return run_id


def start_flow_run(params: Params, reason: str, data: str) -> str:
    """The MLflow run of one training flow, opened before its first stage so the UI shows it while it
    runs (epoch metrics and stage durations arrive live, with their own timestamps); the register
    stage logs the rest into it. Its id is kept in the workdir (layout.active_run) for the stages."""
    import time

    client = connect(params)
    exp = client.get_experiment_by_name(params.register_.experiment)
    note = (f"Training flow triggered by: {reason}. Data: {data}. The gate's decision is added to this "
            "description when it is made.")
    run = client.create_run(exp.experiment_id, run_name=f"train-{time.strftime('%Y%m%d-%H%M%S')}",
                            tags={"trigger": reason, "data": str(data), "mlflow.note.content": note})
    path = params.layout.active_run
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.info.run_id)
    return run.info.run_id


def active_run(params: Params) -> str | None:
    """The run id of the training flow in progress in this workdir, if any."""
    path = params.layout.active_run
    return path.read_text().strip() or None if path.exists() else None


def log_live(params: Params, metrics: dict[str, float], step: int = 0) -> None:
    """Metrics into the flow's run now, with the present time (nothing when no flow run is open: a
    stage run alone, e.g. by DVC, logs everything at register)."""
    import time

    from mlflow.entities import Metric

    run_id = active_run(params)
    if run_id is None:
        return
    now = int(time.time() * 1000)
    connect(params).log_batch(run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()])


def end_flow_run(params: Params, status: str, note: str | None = None) -> None:
    """Close the flow's run (FINISHED or FAILED, with why in its description) and forget it."""
    run_id = active_run(params)
    if run_id is None:
        return
    client = connect(params)
    if note:
        client.set_tag(run_id, "mlflow.note.content", note[:5000])
    client.set_terminated(run_id, status)
    params.layout.active_run.unlink(missing_ok=True)
