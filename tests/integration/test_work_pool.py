"""The same deployments on a process work pool with a worker instead of `accelops serve`: `accelops
deploy --pool` registers them on a real Prefect server, `prefect worker start` picks up a run
triggered through the API and runs it in its own process to completion."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import write_params
from prefect_server import prefect_server, stop

pytestmark = pytest.mark.heavy
BIN = Path(sys.executable).parent


def test_a_worker_on_a_process_pool_runs_the_deployed_monitoring_flow(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    path = write_params(tmp_path / "project")
    with prefect_server(tmp_path / "prefect") as server_env:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}, **server_env,
               "ACCELOPS_PARAMS": str(path)}
        subprocess.run([str(BIN / "prefect"), "work-pool", "create", "accelops", "--type", "process"], env=env,
                       check=True, capture_output=True, timeout=120)
        res = subprocess.run([str(BIN / "accelops"), "deploy", "--pool", "accelops"], env=env, capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        assert "5 deployments on work pool 'accelops'" in res.stdout
        with open(tmp_path / "worker.log", "w") as log:
            worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "accelops",
                                       "--prefetch-seconds", "5"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
            try:
                with temporary_settings({PREFECT_API_URL: server_env["PREFECT_API_URL"]}), \
                        get_client(sync_client=True) as client:
                    run = run_deployment("monitoring/monitoring", timeout=0)
                    deadline = time.monotonic() + 300
                    while not (run := client.read_flow_run(run.id)).state.is_final():
                        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
                        time.sleep(2)
            finally:
                stop(worker)
    assert run.state.type.value == "COMPLETED", (run.state, (tmp_path / "worker.log").read_text()[-3000:])
    assert run.state.message == "nothing new landed" and run.state.name == "Nothing landed"
    assert run.work_pool_name == "accelops"
