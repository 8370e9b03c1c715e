"""Faults: a training flow killed outright leaves nothing half-done that the next one does not repair,
and two training flows in one workdir take turns."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from accelops.errors import WorkdirBusy
from accelops.pipeline.recovery import exclusive_training, recover_interrupted


def _dead_flow(params, register: bool, promote: bool = False) -> tuple[str, str | None]:
    """What a training flow killed inside `register` leaves: its run RUNNING, its id in active_run and
    (optionally) a version registered but never decided, perhaps already @champion."""
    import mlflow

    from accelops.registry import tracking

    run_id = tracking.start_flow_run(params, "killed", "data.parquet")
    version = None
    if register:
        name = params.register_.model_name
        source = mlflow.MlflowClient().get_model_version(name, "1").source
        version = mlflow.MlflowClient().create_model_version(name, source, run_id=run_id).version
        if promote:
            mlflow.MlflowClient().set_registered_model_alias(name, "champion", version)
    return run_id, None if version is None else str(version)


@pytest.mark.parametrize("register,promote", [(False, False), (True, False), (True, True)])
def test_the_next_flow_closes_a_dead_run_and_never_keeps_an_undecided_version(trained_copy, register, promote):
    from accelops.registry import tracking
    from accelops.registry.history import for_params

    params = trained_copy.params
    client = tracking.connect(params)
    run_id, version = _dead_flow(params, register, promote)
    champion = for_params(params, client).current()
    repairs = recover_interrupted(params)
    run = client.get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["interrupted"] == "true"
    assert run.data.tags["mlflow.note.content"].startswith("Interrupted: the process running this training flow")
    assert not params.layout.active_run.exists() and recover_interrupted(params) == []     # once only
    names = {str(v.version): v.tags for v in client.search_model_versions(f"name = '{params.register_.model_name}'")}
    assert for_params(params, client).current() == champion
    if register and not promote:
        assert version not in names and repairs[-1] == f"v{version}: deleted (registered, never decided)"
    if promote:
        assert names[version]["gate.status"] == "PROMOTED" and "lost" in names[version]["gate.reason"]
    assert all("gate.status" in tags for tags in names.values())


def test_two_trainings_in_one_workdir_take_turns_and_a_killed_holder_frees_the_lock(params_path):
    from accelops.config import load_params

    params = load_params(params_path)
    held, release = threading.Event(), threading.Event()

    def hold():
        with exclusive_training(params):
            held.set()
            release.wait(10)

    first = threading.Thread(target=hold)
    first.start()
    held.wait(10)
    impatient = params.model_copy(update={"serve": params.serve.model_copy(update={"training_wait_minutes": 0.01})})
    with pytest.raises(WorkdirBusy, match=f"pid {os.getpid()} on "):
        with exclusive_training(impatient):
            pass
    release.set()
    first.join()
    with exclusive_training(impatient):                  # free again
        pass

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from accelops.config import load_params
        from accelops.pipeline.recovery import exclusive_training
        with exclusive_training(load_params({str(params_path)!r})):
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    started = time.monotonic()
    with exclusive_training(impatient):                  # the kernel freed it: no stale lock
        assert time.monotonic() - started < 1


@pytest.mark.heavy
def test_sigkill_inside_every_training_stage_then_a_clean_run(trained_copy):
    from accelops.pipeline.faults import STAGES, inject

    result = inject(trained_copy.path)
    report = "\n".join(f"{f['stage']}: {f}" for f in result["faults"])
    assert result["injected"] == len(STAGES) and result["survived"] == len(STAGES), report
    long_enough = [s for s in STAGES if result["stage_seconds"][s] >= 1.0]      # a kill can land inside them
    assert len(long_enough) >= 4, result["stage_seconds"]
    inside = [f for f in result["faults"] if f["stage"] in long_enough]
    assert all(f["landed_in"] == f["stage"] for f in inside), report
    assert all(f["run_status_killed"] == "RUNNING" and f["run_status_recovered"] == "FAILED" for f in inside), report
    assert result["final_run"]["ok"], result["final_run"]


@pytest.mark.heavy
def test_the_bad_input_catalogue_stops_every_case_at_each_entry_point_and_passes_clean_input(tmp_path):
    from accelops.config import load_params
    from accelops.data.generator import generate
    from accelops.pipeline.bad_inputs import run_catalogue
    from helpers import write_params

    path = write_params(tmp_path / "project")
    history = load_params(path).layout.history
    generate(3000, 60, "2026-06-01", seed=5).frame.to_parquet(history)
    result = run_catalogue(path)["entry_points"]
    assert {e: (r["tried"], r["rejected"]) for e, r in result.items()} == {
        "params.yaml": (29, 29), "training data": (26, 26), "monitoring batch": (24, 24),
        "CLI arguments": (17, 17), "predict ids": (0, 0), "label files": (15, 15)}, result
    # an untrained project: no champion nor online store for the predict ids (nor the CLI's rollback case)
    assert result["predict ids"]["not_applicable"] == 10 and result["CLI arguments"]["not_applicable"] == 1
    assert "no tracking store yet" in result["predict ids"]["not_applicable_why"], result["predict ids"]
    assert all(r["clean_accepted"] is True for e, r in result.items() if e != "predict ids"), result
    assert not (tmp_path / "project" / "work").exists()          # the catalogue ran on a scratch copy


@pytest.mark.heavy
def test_sigkill_inside_the_monitoring_flow_loses_and_repeats_nothing(trained_copy):
    from accelops.data.generator import continuing_customers, generate
    from accelops.pipeline.faults import inject_monitoring

    params = trained_copy.params
    params.landing.mkdir(parents=True, exist_ok=True)
    customers = continuing_customers(2000, 7, params.generate.rows, params.generate.days)
    batches = []
    for i, start in enumerate(("2026-08-01", "2026-08-08", "2026-08-15")):
        batches.append(params.landing / f"window_{i}.parquet")
        generate(2000, 7, start, seed=40 + i, customers=customers).frame.to_parquet(batches[-1])
    result = inject_monitoring(trained_copy.path, batches)
    assert result["killed"] and "claimed" in result["states_at_kill"].values(), result
    assert result["survived"], result
    assert [f["windows"] for f in result["files"]] == [1, 1, 1] and result["claims_left"] == 0
