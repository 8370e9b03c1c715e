"""The `accelops` console script: the library's commands (accelops.cli) plus `run`, which starts
the Prefect flows. Flows are imported inside the commands, so `accelops --help` stays instant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from accelops import cli

run_app = typer.Typer(help="Run a flow (Prefect: ephemeral, or the server at PREFECT_API_URL).", no_args_is_help=True)
cli.app.add_typer(run_app, name="run")


def _configured(params: Optional[Path]) -> str:
    """The resolved params.yaml path, after setting the tool environment Prefect reads on import."""
    from accelops import runtime
    from accelops.config import default_params_path, load_params

    path = (params or default_params_path()).resolve()
    runtime.configure(load_params(path))
    return str(path)


@run_app.command("training")
def run_training(data: Optional[Path] = typer.Option(None, help="default: params paths.history"),
                 params: Optional[Path] = cli.ParamsOpt,
                 tune_trials: Optional[int] = typer.Option(None, "--tune-trials", min=0, help="Optuna trials before "
                                                           "the final fit (default: train.tuning.trials)"),
                 as_json: bool = typer.Option(False, "--json", help="print every stage's typed result")) -> None:
    """The training flow: a line per stage, then the gate's decision."""
    path = _configured(params)
    from accelops_flows.training import training_flow

    result = training_flow(data=str(data.resolve()) if data else None, params_path=path, tune_trials=tune_trials)
    if as_json:
        typer.echo(_json(result))


@run_app.command("monitoring")
def run_monitoring(batch: Optional[Path] = typer.Option(None, help="one file; default: every file that landed "
                                                                    "in monitor.landing and was not processed before"),
                   params: Optional[Path] = cli.ParamsOpt,
                   as_json: bool = typer.Option(False, "--json", help="print every result in full")) -> None:
    """The monitoring flow on one batch, or on the files that landed since the last run."""
    path = _configured(params)
    from accelops_flows.monitoring import monitoring_flow

    result = monitoring_flow(batch=str(batch.resolve()) if batch else None, params_path=path)
    if as_json:
        typer.echo(_json(result))


@cli.app.command("serve")
def serve(params: Optional[Path] = cli.ParamsOpt) -> None:
    """Serve the deployments: training (serve.training_cron in serve.timezone, one run at a time),
    monitoring (every monitor.schedule_minutes over monitor.landing), scoring, rollback and promote.
    Without PREFECT_API_URL it first starts a local Prefect server on 127.0.0.1:serve.port (UI and API
    on that port), stopped with this command (Ctrl-C or SIGTERM)."""
    import logging
    import os
    import signal
    import sys

    from accelops import runtime
    from accelops.config import load_params

    path = _configured(params)
    p = load_params(path)
    progress = logging.getLogger(runtime.PROGRESS)
    server = log = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))        # run the finally below: stop the server too
    try:
        if "PREFECT_API_URL" not in os.environ:
            api = f"http://127.0.0.1:{p.serve.port}/api"
            log_path = p.layout.run_log.with_name("prefect-server.log")
            log = open(log_path, "a")
            server = runtime.start_group([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                                          "127.0.0.1", "--port", str(p.serve.port)],
                                         env={**os.environ, "PREFECT_UI_API_URL": api}, log=log)
            runtime.wait_healthy(f"{api}/health", server, log_path=log_path)
            os.environ["PREFECT_API_URL"] = api
            progress.info("Prefect server: UI http://127.0.0.1:%d, API %s (log %s)", p.serve.port, api, log_path)
        from prefect import serve as prefect_serve

        from accelops_flows.serve import deployments

        served = deployments(path)
        progress.info("serving %s; training at '%s' %s, monitoring every %g min", ", ".join(d.name for d in served),
                      p.serve.training_cron, p.serve.timezone, p.monitor.schedule_minutes)
        prefect_serve(*served)
    finally:
        if server is not None:
            runtime.stop_group(server)
        if log is not None:
            log.close()


@cli.app.command("deploy")
def deploy(pool: str = typer.Option(..., "--pool", help="a process work pool (`prefect work-pool create NAME "
                                    "--type process`); `prefect worker start --pool NAME` runs the flows"),
           params: Optional[Path] = cli.ParamsOpt) -> None:
    """Register the same deployments as `accelops serve` on a work pool at PREFECT_API_URL, for workers
    to run (this process exits; the flows run in the worker's processes, from this installation)."""
    import os

    path = _configured(params)
    if "PREFECT_API_URL" not in os.environ:
        raise cli.ConfigError("deploy needs PREFECT_API_URL (the Prefect server the workers poll)")
    from prefect import deploy as prefect_deploy

    from accelops_flows.serve import deployments

    ids = prefect_deploy(*deployments(path, from_source=True), work_pool_name=pool, build=False, push=False,
                         print_next_steps_message=False, ignore_warnings=True)
    typer.echo(f"{len(ids)} deployments on work pool {pool!r}; start a worker: prefect worker start --pool {pool}")


def _json(result: dict) -> str:
    """A flow's result (stage name -> typed stage result, nested for a triggered retraining) as JSON."""
    from pydantic import BaseModel

    def plain(v):
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json")
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v

    return json.dumps(plain(result), indent=2, default=str)


def main() -> None:
    """Entry point of the `accelops` console script (accelops.cli's error handling and exit codes)."""
    cli.main()


if __name__ == "__main__":
    main()
