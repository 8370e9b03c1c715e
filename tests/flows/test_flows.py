"""The training and monitoring flows end to end under Prefect, with every real tool."""

import json
from pathlib import Path

import pandas as pd
import pytest

from accelops.config import load_params
from accelops.data.generator import continuing_customers, generate, write
from helpers import Project, copy_project, write_params


@pytest.fixture(scope="module")
def trained_by_flow(tmp_path_factory):
    """History generated and the training flow run once: the project and the flow run's id. Tests
    read it; a test that runs a flow or a command that writes into it takes `flow_copy`."""
    from accelops.pipeline import stages
    from accelops_flows.training import training_flow

    path = write_params(tmp_path_factory.mktemp("flows"))
    params = load_params(path)
    stages.generate(params)
    # with a 3-trial Optuna search (the flow parameter a user sets in the UI's form) on the threads runner
    state = training_flow(params_path=str(path), reason="test", tune_trials=3, return_state=True)
    return Project(path, params, state.result()), state.state_details.flow_run_id


@pytest.fixture
def flow_copy(trained_by_flow, tmp_path):
    """A private copy of the flow-trained project (path, params, the training flow's result)."""
    project = copy_project(trained_by_flow[0], tmp_path / "project")
    return project.path, project.params, project.out


def _artifacts(flow_run_id) -> dict:
    """The Prefect artifacts of one flow run (its tasks' included), by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


def _subflow_artifact(parent_id, key: str):
    """The artifact `key` of a subflow run of flow run `parent_id`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])))
    found = [a for child in children for k, a in _artifacts(child.id).items() if k == key]
    assert len(found) == 1, [c.name for c in children]
    return found[0]


def _batch(params, scenario, seed, folder=None, week=0):
    """A generated batch after the history (`week` batches later), written to `folder` (default: the workdir)."""
    end = pd.read_parquet(params.layout.history)["event_timestamp"].max() + pd.Timedelta(seconds=1)
    start = end + pd.Timedelta(days=week * params.monitor.batch_days)
    out = (folder or params.layout.workdir) / f"batch_{scenario}_{seed}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    m, g = params.monitor, params.generate
    write(generate(m.batch_rows, m.batch_days, start.isoformat(), seed, scenario,
                   customers=continuing_customers(m.batch_rows, m.batch_days, g.rows, g.days)), out)
    return out


def _versions(params):
    from accelops.registry.status import collect

    return collect(params)["versions"]


def test_training_flow_runs_every_stage_and_promotes(trained_by_flow):
    project, flow_run_id = trained_by_flow
    params, result = project.params, project.out
    assert set(result["timings"]) == {"reference", "validate", "features", "tune", "train", "evaluate", "benchmark",
                                      "register", "materialize"}
    tuned = result["tune"]
    assert [t.number for t in tuned.trials] == [0, 1, 2] and result["train"].tuning == tuned
    assert result["register"].promoted and result["evaluate"].overall.roc_auc > 0.7
    assert [v["gate_decision"] for v in _versions(params)] == ["promoted"]
    artifacts = _artifacts(flow_run_id)
    artifact = artifacts["evaluation"]          # the evaluation summary, visible in the Prefect UI
    assert artifact.type == "markdown"
    assert "| roc_auc |" in artifact.data and "Calibration: ECE" in artifact.data
    validation = artifacts["validation"]
    assert "ACCEPTED" in validation.data and "suite version" in validation.data
    table = artifacts["serving-benchmark"]      # the variant table, also in the Prefect UI
    assert table.type == "table" and "teacher/onnxruntime/fp32/cpu" in table.data
    gate = artifacts["gate-decision"]           # every rule's value, bound and verdict, in the Prefect UI
    assert gate.type == "table" and "floor.roc_auc" in gate.data and "PROMOTED" in gate.description
    reg = result["register"]
    assert f"MLflow run http://127.0.0.1:5000/#/experiments/" in gate.description and reg.run_id in gate.description
    change = artifacts["champion-change"].data                # the champion change, linked to MLflow
    assert f"-> v{reg.version}**" in change and f"/#/models/{params.register_.model_name}/versions/{reg.version}" in change
    assert artifacts["model-card"].data.startswith("# Model card:")
    trials = _subflow_artifact(flow_run_id, "tuning")        # the subflow's trials table, one per trial
    assert trials.type == "table" and tuned.study in trials.description and '"trial": 2' in trials.data
    _the_mlflow_run_spans_the_flow(params, reg)
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:          # the outcome is on the run itself, not only artifacts
        run = client.read_flow_run(flow_run_id)
    assert run.state.is_completed() and run.state.message.startswith("v1 PROMOTED: ")
    assert run.state.name == "Promoted"                  # the badge the run list and the run page show


def test_bench_and_online_predict_commands_use_the_champion(flow_copy):
    import subprocess
    import sys
    from pathlib import Path

    path, params, result = flow_copy                  # the commands write results and a serving cache
    cli = str(Path(sys.executable).with_name("accelops"))
    uri = f"models:/{params.register_.model_name}@champion"
    res = subprocess.run([cli, "bench", "--model", uri, "--json", "--params", str(path)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    bench = json.loads(res.stdout)
    assert bench["model"] == uri and bench["student"]["reused"]        # the registered student, not a new one
    assert {r["variant"] for r in bench["rows"]} >= {"teacher/eager/fp32/cpu", "student/onnxruntime/fp32/cpu"}
    table = subprocess.run([cli, "bench", "--model", uri, "--params", str(path)], capture_output=True, text=True,
                           timeout=300)
    assert table.returncode == 0 and "online:" in table.stdout and "p99 ms" in table.stdout
    missing = subprocess.run([cli, "bench", "--model", "models:/no-such-model@champion", "--params", str(path)],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and missing.stderr.startswith("error: RegistryError: models:/no-such-model")

    ids = pd.read_parquet(params.layout.features_table)["customer_id"].head(3).tolist()
    res = subprocess.run([cli, "predict", *map(str, ids), "999999999", "--params", str(path)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 1 and "999999999" in res.stderr
    scored = json.loads(res.stdout)
    assert scored["variant"] == result["benchmark"].recommendation.online.variant and scored["unknown_ids"] == [999999999]
    assert [p["id"] for p in scored["predictions"]] == ids
    assert all(0 < p["probability"] < 1 for p in scored["predictions"])

    batch = _batch(params, "none", 23)                                   # batch scoring of a landed-style file
    res = subprocess.run([cli, "score", str(batch), "--out", str(path.parent / "s.parquet"), "--params", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    scores = pd.read_parquet(path.parent / "s.parquet")
    assert list(scores.columns) == ["customer_id", "event_timestamp", "probability", "model_version", "variant"]
    assert len(scores) == len(pd.read_parquet(batch)) and scores["probability"].between(0, 1).all()
    assert set(scores["variant"]) == {result["benchmark"].recommendation.batch.variant}


def test_clean_batch_does_not_retrain(flow_copy):
    from accelops_flows.monitoring import monitoring_flow

    path, params, _ = flow_copy
    before = _versions(params)
    out = monitoring_flow(batch=str(_batch(params, "none", 21)), params_path=str(path))
    assert out["decision"].retrain is False and out["training"] is None
    assert out["decision"].drift_share <= params.monitor.drift_share_threshold
    assert _versions(params) == before
    assert json.loads(params.layout.drift_decision_file.read_text())["retrain"] is False
    log = pd.read_parquet(params.layout.reports / "monitoring" / "predictions" / "batch_none_21.parquet")
    assert len(log) == params.monitor.batch_rows and log["prediction"].between(0, 1).all()


def test_landed_files_are_checked_once_and_persistent_drift_retrains_once(flow_copy):
    """Files land; each scheduled run takes what is new: a first drifted window waits (k=2 of n=3), the
    second retrains on both files, a run with nothing new does nothing, a third window after the
    retraining starts a new count, and a file that fails validation is quarantined with its reason
    instead of retried."""
    import mlflow

    from accelops_flows.monitoring import monitoring_flow

    import yaml

    from accelops.config import load_params

    path, params, _ = flow_copy
    # the shifted batches carry labels, and their realised AUC is down: decay would retrain at once
    # (test_batch_monitoring covers it); here persistence alone decides
    raw = yaml.safe_load(path.read_text())
    raw["monitor"].setdefault("policy", {})["max_auc_drop"] = 0.99
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    params = load_params(path)
    landing, before = params.landing, len(_versions(params))
    first = _batch(params, "covariate_shift", 22, landing, week=0)
    state = monitoring_flow(params_path=str(path), return_state=True)
    out = state.result()
    assert [(f.file, f.state) for f in out["landed"]] == [(str(first), "done")]
    d1 = out["results"][str(first)]["decision"]
    assert d1.window_drifted and not d1.retrain and "drift in 1 of the last 1 window(s) (needs 2 of 3)" in d1.reason
    assert state.message.startswith(f"{first.name}: no retraining (drift in 1 of the last 1 window(s)")
    assert state.is_completed() and state.name == "No retraining"
    assert {"monthly_charges", "support_tickets", "data_usage_gb"} <= set(d1.drifted_columns)
    shown = _artifacts(state.state_details.flow_run_id)
    assert {"drift-decision", "landed-files"} <= set(shown) and "needs 2 of 3" in shown["drift-decision"].data

    second = _batch(params, "covariate_shift", 23, landing, week=1)
    state = monitoring_flow(params_path=str(path), return_state=True)
    assert state.name == "Retrained"
    out = state.result()
    d2 = out["results"][str(second)]["decision"]
    assert d2.retrain and d2.reason.startswith("drift in 2 of the last 2 window(s)")
    assert d2.policy["batches"] == [str(first), str(second)]
    training = out["results"][str(second)]["training"]
    assert training["validate"].rows == params.generate.rows + 2 * params.monitor.batch_rows
    assert len(_versions(params)) == before + 1
    assert mlflow.get_run(training["register"].run_id).data.tags["trigger"].startswith("drift: drift in 2 of")
    assert (params.layout.reports / "monitoring" / f"drift_{second.stem}.html").stat().st_size > 10_000

    assert monitoring_flow(params_path=str(path))["landed"] == []          # nothing new: nothing done twice
    third = _batch(params, "covariate_shift", 24, landing, week=2)
    out = monitoring_flow(params_path=str(path))
    d3 = out["results"][str(third)]["decision"]
    assert not d3.retrain and "of the last 1 window(s)" in d3.reason and len(_versions(params)) == before + 1

    bad = _batch(params, "missing_spike", 25, landing, week=3)
    (landed,) = monitoring_flow(params_path=str(path))["landed"]
    assert landed.state == "quarantined" and "data_usage_gb" in landed.outcome
    kept = Path(landed.quarantined_to)
    assert (kept / bad.name).exists() and "data_usage_gb" in json.loads((kept / "rejected.json").read_text())["reason"]
    assert monitoring_flow(params_path=str(path))["landed"] == []          # not retried


def test_invalid_batch_stops_monitoring_with_named_error(flow_copy):
    from accelops.errors import DataValidationError
    from accelops_flows.monitoring import monitoring_flow

    path, params, _ = flow_copy
    before = _versions(params)
    state = monitoring_flow(batch=str(_batch(params, "missing_spike", 23)), params_path=str(path),
                            return_state=True)
    with pytest.raises(DataValidationError, match="data_usage_gb"):
        state.result()
    assert _versions(params) == before
    stopped = _artifacts(state.state_details.flow_run_id)["batch-validation"]   # why it stopped, in the UI
    assert "REJECTED" in stopped.data
    assert "| error | data_usage_gb | expect_column_values_to_not_be_null |" in stopped.data


def test_served_deployments_match_what_monitoring_triggers(trained_by_flow):
    from accelops_flows.monitoring import TRAINING_DEPLOYMENT
    from accelops_flows.serve import deployments

    path, params = trained_by_flow[0].path, trained_by_flow[0].params
    training, monitoring, scoring, rollback, promote = deployments(str(path))
    assert f"{training.flow_name}/{training.name}" == TRAINING_DEPLOYMENT
    assert (training.schedules[0].schedule.cron, training.schedules[0].schedule.timezone) == \
        (params.serve.training_cron, params.serve.timezone)
    assert training.parameters == {"params_path": str(path)}          # "nightly" comes from the schedule only
    assert training.schedules[0].parameters == {"reason": "nightly"}
    assert monitoring.flow_name == "monitoring" and scoring.flow_name == "scoring"
    assert (rollback.flow_name, promote.flow_name) == ("rollback", "promote")
    assert training.concurrency_limit == monitoring.concurrency_limit == 1
    assert training.concurrency_options.collision_strategy.value == "ENQUEUE"


def test_monitoring_without_a_champion_is_a_named_outcome_not_a_crash(tmp_path):
    """The gate accepted nothing yet (a fresh project): the batch is validated, nothing is scored, the
    flow completes and records why; `accelops status` says so."""
    from accelops.registry.status import collect, render
    from accelops_flows.monitoring import monitoring_flow

    path = write_params(tmp_path)
    params = load_params(path)
    batch = tmp_path / "batch.parquet"
    write(generate(600, 7, "2026-08-01", seed=11, scenario="none"), batch)
    state = monitoring_flow(batch=str(batch), params_path=str(path), return_state=True)
    assert state.is_completed()
    out = state.result()
    assert out["training"] is None and out["decision"].retrain is False
    assert out["decision"].reason.startswith("no champion: nothing to compare")
    assert params.layout.batch_validation_report(batch).exists()            # validated all the same
    assert json.loads(params.layout.drift_decision_file.read_text())["rows"] == 600
    text = render(collect(params))
    assert "champion: none" in text and "no champion: nothing to compare" in text


def test_rollback_and_promote_flows_move_the_champion_and_record_the_flow_run(flow_copy):
    from accelops.errors import RegistryError
    from accelops.registry import history
    from accelops.pipeline import stages
    from accelops_flows.champion import promote_flow, rollback_flow

    path, params, _ = flow_copy
    ties = params.replace(register={"gate": {**params.register_.gate.model_dump(), "promote_ties": True}})
    assert stages.register(ties, reason="test: v2").status == "PROMOTED"
    event = rollback_flow(reason="test: from the UI", params_path=str(path))
    assert (event["from_version"], event["to_version"]) == ("2", "1") and event["who"].startswith("prefect flow run")
    assert promote_flow(version="2", reason="test: back", params_path=str(path))["to_version"] == "2"
    state = promote_flow(version="2", reason="test: again", params_path=str(path), return_state=True)
    assert state.is_failed() and isinstance(state.result(raise_on_failure=False), RegistryError)
    assert [e.action for e in history.for_params(params).events()] == ["promote", "promote", "rollback", "override"]


def _paused_run(flow_name: str, timeout: float = 120):
    """The id of a paused run of `flow_name`, as the Prefect UI lists it."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState,
                                                FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                    any_=[StateType.PAUSED]))))
            if runs:
                return runs[0].id
            time.sleep(0.5)
    raise AssertionError(f"no paused {flow_name} run within {timeout} s")


def _pending(params, reason):
    from accelops.pipeline import stages

    manual = params.replace(register={"approval": "manual",
                                      "gate": {**params.register_.gate.model_dump(), "promote_ties": True}})
    pending = stages.register(manual, reason=reason)
    assert pending.status == "PENDING_APPROVAL"
    return pending


def test_manual_approval_approve_and_reject_through_the_api_as_the_ui_does(flow_copy):
    from concurrent.futures import ThreadPoolExecutor

    from prefect.flow_runs import resume_flow_run

    from accelops.registry import history
    from accelops_flows.approval import approval_flow

    path, params, _ = flow_copy
    hist = history.for_params(params)
    pending = _pending(params, "test: waits for a person")
    assert hist.current() == "1"                                   # nothing moves before the decision
    for approve, expected, champion in ((True, "PROMOTED", pending.version), (False, "REJECTED", pending.version)):
        if not approve:
            pending = _pending(params, "test: waits again")
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(approval_flow, registration=pending.model_dump(mode="json"), params_path=str(path))
            resume_flow_run(_paused_run("approval"), run_input={"approve": approve, "reason": f"test: {expected}"})
            decided = running.result(timeout=120)
        assert decided["status"] == expected and hist.current() == champion
        tags = hist.client.get_model_version(params.register_.model_name, pending.version).tags
        assert tags["gate.status"] == expected and f"test: {expected}" in tags["gate.approval"]
    assert [e.action for e in hist.events()] == ["promote", "promote"]
    assert hist.events()[-1].reason.startswith("approved by approver via prefect flow run")


def test_manual_approval_times_out_as_a_rejection(flow_copy):
    import yaml

    from accelops.registry import history
    from accelops_flows.approval import approval_flow

    path, params, _ = flow_copy
    raw = yaml.safe_load(path.read_text())
    raw["register"]["approval_timeout_s"] = 2
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    pending = _pending(params, "test: nobody answers")
    decided = approval_flow(registration=pending.model_dump(mode="json"), params_path=str(path))
    assert decided["status"] == "REJECTED" and "no decision within 2 s" in decided["reason"]
    assert history.for_params(params).current() == "1"


@pytest.mark.heavy
def test_accelops_serve_runs_the_deployments_on_its_own_server(flow_copy, tmp_path):
    """`accelops serve` with no PREFECT_API_URL: it starts a Prefect server on 127.0.0.1 (the UI told the
    API's URL), serves every deployment with its schedule and described parameters; files dropped into
    the landing folder are taken by the scheduled monitoring runs, each exactly once, with no one
    passing a path; two training runs triggered through the API as the UI does run one after the
    other; SIGTERM stops the serve process and the server with it."""
    import os
    import subprocess
    import sys
    import time

    import urllib.request

    import yaml
    from prefect_server import free_port, stop

    from accelops.monitoring.intake import Ledger

    path, params, _ = flow_copy
    raw = yaml.safe_load(path.read_text())
    raw["monitor"]["schedule_minutes"] = 0.15                       # every 9 s
    port = free_port()
    raw["serve"] = {"port": port, "timezone": "Europe/Berlin", "training_cron": "0 3 * * *"}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    env = {"PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    params = load_params(path)
    ledger_path = params.layout.intake_ledger

    def wait_done(n: int, timeout: float = 300) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [f for f in Ledger.for_path(ledger_path).all() if f.state == "done"] if ledger_path.exists() else []
            if len(done) >= n:
                return done
            time.sleep(2)
        raise AssertionError(f"{n} file(s) not processed in {timeout} s: {(tmp_path / 'serve.log').read_text()[-3000:]}")

    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}    # not the test harness
    with open(tmp_path / "serve.log", "w") as log:
        served = subprocess.Popen([str(Path(sys.executable).parent / "accelops"), "serve"], stdout=log,
                                  stderr=subprocess.STDOUT, env={**clean, "ACCELOPS_PARAMS": str(path)},
                                  start_new_session=True)
        try:
            first = _batch(params, "none", 41, params.landing, week=0)
            (done,) = wait_done(1)
            second = _batch(params, "none", 42, params.landing, week=1)
            done = wait_done(2)
            ui_settings = urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=5).read().decode()
            assert f"127.0.0.1:{port}/api" in ui_settings               # the UI calls this server's API
            trained = _two_overlapping_trainings(env)
            from prefect.client.orchestration import get_client
            from prefect.client.schemas.filters import FlowFilter, FlowFilterName
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}), \
                    get_client(sync_client=True) as client:
                runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["monitoring"])))
        finally:
            served.send_signal(15)                                        # SIGTERM, as a service manager does
            try:
                served.wait(120)
            except subprocess.TimeoutExpired:
                pass
            stop(served)
            leaked = _kill_servers_on(port)
        assert served.returncode is not None and leaked == []              # the server went with it
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
        ledger = Ledger.for_path(ledger_path)
        assert {f.path: (f.state, f.attempts) for f in ledger.all()} == {str(first): ("done", 1),
                                                                        str(second): ("done", 1)}
        assert [w.batch for w in ledger.windows()] == [str(first), str(second)]
        completed = [r for r in runs if r.state_type.value == "COMPLETED"]
        assert len(completed) >= 2 and all(r.deployment_id is not None for r in completed)
        assert all(r.parameters.get("batch") is None for r in completed)   # nobody passed a file
    (one, two) = trained
    assert one.state_type.value == two.state_type.value == "COMPLETED"
    assert two.start_time >= one.end_time, (one.start_time, one.end_time, two.start_time)   # one at a time
    assert one.parameters.get("reason", "manual") == "manual"             # not labelled "nightly"


def _the_mlflow_run_spans_the_flow(params, reg) -> None:
    """One MLflow run per training flow, opened before its first stage: epoch metrics each at the time
    its epoch ended, every stage's duration, the datasets, and descriptions on the run and the version."""
    from accelops.registry import tracking

    client = tracking.connect(params)
    run = client.get_run(reg.run_id)
    assert run.info.status == "FINISHED" and not params.layout.active_run.exists()
    curve = client.get_metric_history(reg.run_id, "valid_auc")
    assert len(curve) >= 2 and len({m.timestamp for m in curve}) == len(curve)     # logged live, not at the end
    assert [m.step for m in curve] == list(range(1, len(curve) + 1))
    assert {f"stage_seconds.{s}" for s in ("reference", "validate", "features", "train", "evaluate", "benchmark",
                                           "register", "materialize")} <= set(run.data.metrics)
    assert run.info.start_time < min(m.timestamp for m in curve)                     # open before training
    assert {d.dataset.name for d in run.inputs.dataset_inputs} == {"training_set", "test_split"}
    note = run.data.tags["mlflow.note.content"]
    assert note.startswith(f"v{reg.version} PROMOTED") and "Trigger:" in note
    tuned = reg_training(params).tuning                                      # the search beside the run
    assert {f"tuned.{k}": str(v) for k, v in tuned.best_values.items()}.items() <= run.data.params.items()
    assert run.data.tags["tuning.study"] == tuned.study and run.data.metrics["tuning.trials"] == 3
    assert [m.step for m in client.get_metric_history(reg.run_id, "tuning.trial_valid_auc")] == [0, 1, 2]
    assert "tuning/optuna.journal" in {f.path for f in client.list_artifacts(reg.run_id, "tuning")}
    version = client.get_model_version(params.register_.model_name, reg.version)
    assert version.description == note


def reg_training(params):
    from accelops.pipeline.files import read_model
    from accelops.training.schema import TrainingSummary

    return read_model(TrainingSummary, params.layout.training_summary, "train")


def _kill_servers_on(port: int) -> list[int]:
    """Kill (and return the pids of) any `prefect server start --port PORT` still running."""
    import psutil

    found = [p for p in psutil.process_iter(["pid", "cmdline"])
             if "server" in (p.info["cmdline"] or []) and str(port) in (p.info["cmdline"] or [])]
    for p in found:
        p.kill()
    return [p.pid for p in found]


def _two_overlapping_trainings(env: dict) -> list:
    """Trigger the training deployment twice at once through the API (as the UI's Run button does) and
    wait for both; check the deployments the UI lists (schedules, parameter descriptions)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
        assert set(deployments) == {"training", "monitoring", "scoring", "rollback", "promote"}
        training = deployments["training"]
        (schedule,) = training.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 3 * * *", "Europe/Berlin")
        assert schedule.parameters == {"reason": "nightly"}
        assert training.global_concurrency_limit.limit == 1
        assert training.concurrency_options.collision_strategy.value == "ENQUEUE"
        props = training.parameter_openapi_schema["properties"]
        assert "recorded on the MLflow run" in props["reason"]["description"]
        assert deployments["scoring"].description.startswith("Score a file with @champion")
        runs = [run_deployment("training/training", timeout=0) for _ in range(2)]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            runs = [client.read_flow_run(r.id) for r in runs]
            if all(r.state and r.state.is_final() for r in runs):
                return sorted(runs, key=lambda r: r.start_time)
            time.sleep(3)
    raise AssertionError(f"training runs not finished: {[r.state for r in runs]}")
