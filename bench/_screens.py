"""Screenshots of the Prefect and MLflow UIs over a project the scheduler has just run (#15's must-show),
taken by headless Chromium through Playwright: the deployments page with schedules, a deployment's run
form with its described parameters, a flow run whose outcome shows in its name and state, the drift and
gate artifacts, and the MLflow run with its datasets and its per-epoch chart.

Needs Debian's Chromium (`apt-get install chromium`) and Playwright from requirements-screenshots.lock
(`make screenshots` installs both). Called by bench/landing_to_champion.py --screenshots DIR while its
Prefect server is still up; starts `accelops ui mlflow` itself and stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 1600, 1000


def wait_http(url: str, timeout_s: float = 90) -> None:
    deadline = time.time() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(1)


def take(out: Path, prefect_url: str, bin_dir: Path, env: dict, params, mlflow_port: int) -> dict[str, str]:
    """Every screenshot, as {name: file}; what each page showed is checked before it is saved."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    out.mkdir(parents=True, exist_ok=True)
    with temporary_settings({PREFECT_API_URL: f"{prefect_url}/api"}), get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        training = next(d for d in client.read_deployments() if flows.get(d.flow_id) == "training")
        # the newest training run the scheduler finished: the drift retraining, its outcome in name and state
        retrained = max((r for r in client.read_flow_runs() if flows.get(r.flow_id) == "training"
                         and r.state is not None and r.state.is_final()), key=lambda r: r.start_time)
        artifacts = {}
        for a in sorted(client.read_artifacts(), key=lambda a: a.created):
            if a.key:
                artifacts[a.key] = a                          # the newest of each key
    ui = subprocess.Popen([str(bin_dir / "accelops"), "ui", "mlflow", "--port", str(mlflow_port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    shots: dict[str, str] = {}
    try:
        mlflow_url = f"http://127.0.0.1:{mlflow_port}"
        wait_http(mlflow_url)
        run_id, experiment_id = _mlflow_run(params, mlflow_url)
        pages = [
            ("01-deployments", f"{prefect_url}/deployments", "training"),
            ("02-run-form", f"{prefect_url}/deployments/deployment/{training.id}/run", "Parameters"),
            ("03-flow-run-outcome", f"{prefect_url}/runs/flow-run/{retrained.id}", retrained.name),
            *[(f"04-artifact-{key}", f"{prefect_url}/artifacts/artifact/{artifacts[key].id}", key)
              for key in ("drift-decision", "gate-decision") if key in artifacts],
            ("05-mlflow-run", f"{mlflow_url}/#/experiments/{experiment_id}/runs/{run_id}", "Datasets"),
            ("06-mlflow-epoch-chart", f"{mlflow_url}/#/experiments/{experiment_id}/runs/{run_id}/model-metrics",
             "Model metrics"),
        ]
        filters = {"06-mlflow-epoch-chart": "valid_auc"}      # the per-epoch charts, not the 148 one-point ones
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            for name, url, expect in pages:
                page.goto(url, wait_until="load", timeout=90_000)     # MLflow's UI polls: never network-idle
                try:
                    page.get_by_text(expect).first.wait_for(timeout=60_000)
                except PlaywrightTimeout:
                    pass                                       # photographed anyway, reported MISSING below
                if url.startswith(mlflow_url):
                    _close_assistant(page)
                if name in filters:
                    page.get_by_placeholder("Search metric charts").fill(filters[name])
                page.wait_for_timeout(3000)                    # charts and lazy panels finish drawing
                text = page.inner_text("body")
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots[name] = str(path)
                print(f"  {name}: {url} ({'shows' if expect in text else 'MISSING'} {expect!r})")
            browser.close()
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(60)
    return shots


def _close_assistant(page) -> None:
    """MLflow 3's assistant side panel opens by itself and covers a third of the page."""
    close = page.locator("[aria-label*='MLflow Assistant'] button[aria-label*='lose'], "
                         "div:has(> span:text-is('MLflow Assistant')) ~ * button[aria-label*='lose']")
    try:
        if close.count():
            close.first.click(timeout=3000)
    except Exception:                                          # photographed with the panel open
        pass


def _mlflow_run(params, mlflow_url: str) -> tuple[str, str]:
    """The newest training run (its epochs were logged live) and its experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_url)
    experiment = client.get_experiment_by_name(params.register_.experiment)
    (run,) = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
    return run.info.run_id, experiment.experiment_id
