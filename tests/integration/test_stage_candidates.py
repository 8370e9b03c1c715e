"""A gradient-boosting challenger end to end: chosen by the train stage, evaluated, benchmarked on its
own serving variant, registered behind the gate (held against the network on the same rows) and
served by the registered pyfunc with the probabilities the pipeline measured."""

import json

import numpy as np
import pandas as pd
import yaml

from accelops.config import load_params
from accelops.pipeline import stages
from accelops.training import model_folder


def test_a_boosting_challenger_is_trained_benchmarked_registered_and_served(trained_copy, tmp_path):
    import mlflow

    raw = yaml.safe_load(trained_copy.path.read_text())
    raw["train"]["candidates"] = ["boosting"]           # only the baseline may become the challenger
    trained_copy.path.write_text(yaml.safe_dump(raw, sort_keys=False))
    params = load_params(trained_copy.path)
    lay = params.layout

    training = stages.train(params)
    assert training.challenger == "boosting" and set(training.valid_auc) == {"network", "boosting"}
    assert model_folder.kind(lay.model_dir) == "boosting"
    assert model_folder.weights_hash(lay.model_dir) == model_folder.weights_hash(lay.candidate_dir("boosting"))
    test = pd.read_parquet(lay.predictions)
    np.testing.assert_array_equal(test["prediction"], test[model_folder.candidate_column("boosting")])

    evaluation = stages.evaluate(params)
    assert "fgsm" not in evaluation.robustness.curves and "gaussian_noise" in evaluation.robustness.curves
    bench = stages.benchmark(params)
    assert bench.variants == ["teacher/sklearn/fp32/cpu", "teacher/treelite/fp32/cpu"]
    assert bench.reference == "teacher/sklearn/fp32/cpu" and bench.student is None
    treelite = [r for r in bench.rows if r.runtime == "treelite"]
    assert treelite and all(abs(r.auc_drop) < 1e-3 and r.max_prob_diff < 1e-3 for r in treelite)
    one = {r.runtime: r.p50_ms for r in bench.rows if r.batch_size == 1}
    assert one["treelite"] < one["sklearn"]           # per-tree call overhead: the reason Treelite is here
    assert bench.recommendation.online is not None and bench.recommendation.online.variant.startswith("teacher/")
    assert all("gradient-boosting" in s["reason"] for s in bench.skipped)

    reg = stages.register(params)
    rules = {r.rule: r for r in reg.rules}
    assert "candidate.network.auc_gain" in rules and reg.comparison is not None     # re-scored the network champion
    assert rules["candidate.network.auc_gain"].detail.startswith("boosting challenger")
    tags = mlflow.get_run(reg.run_id).data.tags
    assert tags["model_kind"] == "boosting" and "validation AUC" in tags["challenger_choice"]
    (tmp_path / "dl").mkdir()
    served = mlflow.pyfunc.load_model(f"models:/{reg.model_name}/{reg.version}", dst_path=str(tmp_path / "dl"))
    features = test[params.model_contract.feature_columns]
    np.testing.assert_allclose(np.asarray(served.predict(features), float), test["prediction"], atol=1e-9)
    assert "gradient-boosting model" in lay.model_card.read_text()
    assert json.loads(lay.registration_file.read_text())["version"] == reg.version
