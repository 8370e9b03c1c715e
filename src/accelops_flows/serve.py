"""Serve the flows as deployments (a long-running process; the Prefect UI can then trigger them
with parameters). Training runs nightly; monitoring runs every monitor.schedule_minutes over the
files that landed in monitor.landing (or on demand with a `batch` parameter) and triggers the
training deployment through run_deployment when the retraining policy says so; rollback and
promote move @champion on an operator's request, recorded in the champion history.

    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python -m accelops_flows.serve
"""

from __future__ import annotations

from accelops import runtime
from accelops.config import default_params_path, load_params

NIGHTLY = "0 2 * * *"


def deployments(params_path: str):
    from datetime import timedelta

    from accelops_flows.champion import promote_flow, rollback_flow
    from accelops_flows.monitoring import monitoring_flow
    from accelops_flows.training import training_flow

    return [
        training_flow.to_deployment(name="training", cron=NIGHTLY,
                                    parameters={"params_path": params_path, "reason": "nightly"}),
        monitoring_flow.to_deployment(name="monitoring", parameters={"params_path": params_path},
                                      interval=timedelta(minutes=load_params(params_path).monitor.schedule_minutes),
                                      description="Drift check over the files that landed since the last run "
                                                  "(or one `batch` file); retrains when the policy says so"),
        rollback_flow.to_deployment(name="rollback", parameters={"params_path": params_path}),
        promote_flow.to_deployment(name="promote", parameters={"params_path": params_path}),
    ]


def main() -> None:
    params_path = str(default_params_path().resolve())
    runtime.configure(load_params(params_path))
    runtime.configure_logging()
    from prefect import serve

    serve(*deployments(params_path))


if __name__ == "__main__":
    main()
