"""The register stage: the MLflow run (metrics, artifacts, provenance), the registered version and
the promotion gate (first model, a worse challenger, a model too slow to serve), and status."""

import json

import numpy as np
import pandas as pd
import pytest

from accelops.errors import StageInputMissing
from accelops.pipeline import stages
from accelops.training.model_folder import serving_file


def test_registered_run_carries_evaluation_provenance_and_training_facts(trained):
    import mlflow

    from accelops.hashing import file_sha256

    params, out = trained.params, trained.out
    lay = params.layout
    assert lay.registration_file.exists()
    run_id = out["register"].run_id
    client = mlflow.MlflowClient()
    listed = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert {"evaluation/reliability.png", "evaluation/slices.png", "evaluation/robustness.png",
            "evaluation/evaluation.json", "evaluation/slices.csv", "evaluation/summary.md"} <= listed
    metrics = mlflow.get_run(run_id).data.metrics
    assert {"ece_before", "ece_after", "test_roc_auc_ci_low", "test_f1", "fairness.region.dp_diff"} <= set(metrics)
    assert any(k.startswith("robustness.fgsm.") for k in metrics)
    # validation provenance and Data Docs travel with the run
    tags = mlflow.get_run(run_id).data.tags
    assert tags["data.source_sha256"] == file_sha256(lay.history)
    assert tags["validation.suite_version"] == json.loads(
        lay.validation_report.read_text())["provenance"]["suite_version"]
    assert "data_docs/index.html" in {a.path for a in client.list_artifacts(run_id, "data_docs")}
    reports = {a.path for a in client.list_artifacts(run_id, "reports")}
    assert {"reports/feature_stats.json", "reports/training_curves.png", "reports/validation.html"} <= reports
    # the network beside its scikit-learn baseline, with curves and the run's hardware facts
    assert {"baseline_test_roc_auc", "challenger_minus_baseline_auc", "train_seconds"} <= set(metrics)
    assert metrics["baseline_test_roc_auc"] > 0.7
    assert tags["precision"] in {"fp32", "bf16"} and tags["threads"] == "1"
    assert len(client.get_metric_history(run_id, "lr")) == json.loads(
        lay.training_summary.read_text())["epochs_run"]


def test_first_model_becomes_champion(trained):
    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    params, out = trained.params, trained.out
    assert out["register"].promoted and out["register"].reason.startswith("no champion yet; all ")
    assert out["register"].comparison is None and {"floor.roc_auc", "ceiling.ece"} <= {
        r.rule for r in out["register"].rules if r.verdict == "pass"}
    client = tracking.connect(params)
    assert str(current_champion(client, params.register_.model_name).version) == out["register"].version


def test_each_version_is_audited_for_membership_inference(trained):
    """The evaluate stage attacks the model with its own training rows against test rows; the gate holds
    the attack AUC under its ceiling, the run logs it, the card and `accelops audit` show it."""
    from accelops.evaluation.schema import EvaluationReport
    from accelops.pipeline.audit import membership_figures, render

    params, reg = trained.params, trained.out["register"]
    report = EvaluationReport.model_validate_json(params.layout.evaluation_report.read_text())
    mia = report.privacy
    assert mia is not None and mia.members == mia.non_members > 100 and 0.4 < mia.roc_auc < 0.6
    rule = {r.rule: r for r in reg.rules}["ceiling.membership_auc"]
    assert rule.verdict == "pass" and rule.value == mia.roc_auc and rule.bound == params.register_.gate.max_membership_auc
    assert "## Privacy (membership inference)" in params.layout.model_card.read_text()
    figures = membership_figures(params)
    assert figures["versions"][0] == {"version": int(reg.version), "gate_decision": "promoted",
                                      "membership_auc": mia.roc_auc, "advantage": mia.advantage}
    lines = render({"membership_inference": figures, "pending": {}})
    assert f"v{reg.version} (promoted): AUC {mia.roc_auc:.4f}" in "\n".join(lines)



def test_every_version_carries_provenance_datasets_and_a_model_card(trained):
    import mlflow

    from accelops.hashing import file_sha256
    from accelops.registry import tracking

    params, reg = trained.params, trained.out["register"]
    client = tracking.connect(params)
    tags = client.get_model_version(params.register_.model_name, reg.version).tags
    assert tags["prov.training_set_sha256"] == file_sha256(params.layout.training_set)
    assert tags["prov.parent_champion"] == "None" and tags["prov.feature_service"] == params.features.feature_service
    assert tags["prov.git_commit"] and tags["prov.validation_suite_version"] != "None"
    inputs = mlflow.get_run(reg.run_id).inputs.dataset_inputs
    assert {(i.dataset.name, i.tags[0].value) for i in inputs} == {("training_set", "training"),
                                                                  ("test_split", "evaluation")}
    card = params.layout.model_card.read_text()
    assert card.startswith(f"# Model card: {params.register_.model_name} v{reg.version}")
    for section in ("Gate decision: PROMOTED", "## Intended use", "## Metrics", "## Slices", "## Calibration",
                    "## Fairness", "## Robustness", "## Serving", "## Gate rules", "## Limitations"):
        assert section in card
    assert "<table>" in params.layout.model_card_html.read_text()
    listed = {a.path for a in client.list_artifacts(reg.run_id, "model_card")}
    assert listed == {"model_card/model_card.md", "model_card/model_card.html"}
    assert "@example.com" not in card                                     # aggregates only, no PII


def test_worse_challenger_is_rejected_and_the_champion_stays(trained_copy):
    import mlflow

    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    params, out = trained_copy.params, trained_copy.out
    client = tracking.connect(params)
    name = params.register_.model_name
    # a challenger trained on shuffled labels is worse on the same test split
    lay = params.layout
    ts = pd.read_parquet(lay.training_set)
    ts["churned"] = np.random.default_rng(0).permutation(ts["churned"].to_numpy())
    ts.to_parquet(lay.training_set)
    stages.train(params)
    stages.evaluate(params)
    with pytest.raises(StageInputMissing, match="benchmark.*another model"):
        stages.register(params, reason="stale benchmark")       # nothing registered with the old table
    stages.benchmark(params)
    decision = stages.register(params, reason="test: worse challenger")
    assert decision.status == "REJECTED"
    assert decision.comparison.champion_auc > decision.challenger_auc
    assert str(current_champion(client, name).version) == out["register"].version     # unchanged
    tags = client.get_model_version(name, decision.version).tags
    assert tags["gate.decision"] == "rejected" and "champion.auc_gain" in tags["gate.reason"]
    assert tags["gate.rule.champion.auc_gain"].startswith("fail value=-")
    assert json.loads(mlflow.artifacts.load_text(f"runs:/{decision.run_id}/gate/decision.json"))["status"] == "REJECTED"
    run = mlflow.get_run(decision.run_id)
    assert run.data.tags["trigger"] == "test: worse challenger"
    assert {"data_hash", "params_hash", "git_commit", "device", "torch_version"} <= set(run.data.tags)
    assert "test_roc_auc" in run.data.metrics and any(k.startswith("slice.plan.") for k in run.data.metrics)
    assert len(client.get_metric_history(decision.run_id, "valid_auc")) >= 1


def test_model_missing_the_serving_objective_is_registered_not_promoted(trained_copy):
    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    params = trained_copy.params
    client = tracking.connect(params)
    name = params.register_.model_name
    before = current_champion(client, name).version
    strict = params.replace(benchmark={"online_p99_ms": 1e-6})          # an objective no variant can meet
    stages.benchmark(strict)
    decision = stages.register(strict, reason="test: too slow to serve")
    assert decision.status == "REJECTED" and decision.reason.startswith("serving.online_objective: no variant")
    assert current_champion(client, name).version == before
    assert json.loads(serving_file(params.layout.serving_dir).read_text())["online"] is None
    bench = json.loads(params.layout.benchmark_result.read_text())      # measured twice before refusing
    assert bench["conditions"]["remeasured"] and "load average" in bench["recommendation"]["online_reason"]


def test_status_reports_champion_and_decisions(trained):
    from accelops.registry.status import collect, render

    params, out = trained.params, trained.out
    facts = collect(params)
    assert facts["champion"]["version"] == int(out["register"].version)
    assert facts["champion"]["test_metrics"]["roc_auc"] > 0.7
    assert [v["gate_decision"] for v in facts["versions"]] == ["promoted"]
    online = out["benchmark"].recommendation.online.variant
    assert facts["champion"]["serving"]["online.variant"] == online
    assert f"serves online on {online}" in render(facts)


def test_a_registration_that_fails_before_its_decision_leaves_no_version(trained_copy):
    """The champion lock cannot be taken (here: a directory where the lock file goes) after the
    version was registered: the version is deleted again, @champion and the versions are unchanged."""
    import shutil

    from accelops.registry.status import collect

    params = trained_copy.params
    gate = params.register_.gate.model_dump() | {"min_auc_gain": -1.0}      # the same model would pass
    params = params.replace(register={"gate": gate})
    before = collect(params)
    lock = params.layout.champion_lock
    lock.unlink(missing_ok=True)
    lock.mkdir(parents=True)
    try:
        with pytest.raises(IsADirectoryError):
            stages.register(params, reason="test: lock unavailable")
    finally:
        shutil.rmtree(lock)
    after = collect(params)
    assert after["versions"] == before["versions"] and after["champion"] == before["champion"]
