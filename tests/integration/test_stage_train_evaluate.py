"""The train and evaluate stages on the real pipeline: the model, its predictions, the evaluation
report (intervals, calibration, slices, fairness, robustness, behaviour) and the metrics file."""

import json

import numpy as np
import pandas as pd

from accelops.training.model_folder import WEIGHTS


def test_train_writes_the_model_and_predictions_on_the_test_split(trained):
    lay = trained.params.layout
    for path in (lay.training_set, lay.predictions, lay.model_dir / WEIGHTS, lay.training_curves):
        assert path.exists(), path
    test = pd.read_parquet(lay.predictions)
    assert test["prediction"].between(0, 1).all() and len(test) == trained.out["train"].rows["test"]


def test_evaluation_report_and_metrics_file(trained):
    params = trained.params
    lay = params.layout
    report = json.loads(lay.evaluation_report.read_text())
    assert report["schema_version"] == 1
    assert {"overall", "intervals", "threshold", "at_threshold", "calibration", "slices", "weak_slices",
            "fairness", "robustness", "behaviour", "artifacts"} <= set(report)
    ci = report["intervals"]["roc_auc"]
    assert ci["low"] < report["overall"]["roc_auc"] < ci["high"]
    assert report["calibration"]["temperature"] > 0
    assert set(report["robustness"]["curves"]) == {"gaussian_noise", "missing", "category_corruption", "fgsm"}
    assert all(b["passed"] for b in report["behaviour"]["invariance"])
    assert set(report["fairness"]["columns"]) == set(params.evaluate.sensitive)
    metrics = json.loads(lay.metrics_file.read_text())
    assert metrics["roc_auc"] > 0.7 and metrics["rows"] == pd.read_parquet(lay.predictions).shape[0]


def test_served_model_applies_the_fitted_temperature(trained, tmp_path):
    import mlflow

    from accelops.training.predict import Predictor

    params, out = trained.params, trained.out
    test = pd.read_parquet(params.layout.predictions)
    # downloaded to tmp_path: from a local store MLflow otherwise loads in place and writes beside the artifacts
    served = mlflow.pyfunc.load_model(out["register"].model_uri, dst_path=str(tmp_path))
    # the served variant is the benchmark's batch recommendation: as close to fp32 eager as it measured
    batch = json.loads(params.layout.benchmark_result.read_text())["recommendation"]["batch"]
    diff = np.abs(np.asarray(served.predict(test[params.model_contract.feature_columns])) - test["prediction"])
    assert diff.max() <= batch["max_prob_diff"] + 1e-6
    raw = 1 / (1 + np.exp(-test["logit"]))
    assert Predictor(params.layout.model_dir).temperature != 1.0
    assert not np.allclose(raw, test["prediction"])
