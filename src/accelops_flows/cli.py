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
                 as_json: bool = typer.Option(False, "--json", help="print every stage's typed result")) -> None:
    """The training flow: a line per stage, then the gate's decision."""
    path = _configured(params)
    from accelops_flows.training import training_flow

    result = training_flow(data=str(data.resolve()) if data else None, params_path=path)
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
