"""Serve the flows as deployments (a long-running process; the Prefect UI then triggers them with
a described parameter form). Training runs on serve.training_cron in serve.timezone, one run at a
time (a drift-triggered retraining queues behind a nightly run); monitoring runs every
monitor.schedule_minutes over the files that landed in monitor.landing and triggers the training
deployment when the retraining policy says so; scoring, rollback and promote run on request.

    accelops serve          # starts a local Prefect server first when PREFECT_API_URL is unset
"""

from __future__ import annotations

from accelops import runtime
from accelops.config import default_params_path, load_params


def deployments(params_path: str, from_source: bool = False):
    """The deployments; `from_source`: each flow loaded from this installation's folder by entrypoint
    (what a work pool's worker needs to find the code; `serve` runs them in-process)."""
    from datetime import timedelta
    from pathlib import Path

    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval

    from accelops_flows.champion import promote_flow, rollback_flow
    from accelops_flows.monitoring import monitoring_flow
    from accelops_flows.scoring import scoring_flow
    from accelops_flows.training import training_flow

    if from_source:
        import accelops_flows

        root = str(Path(accelops_flows.__file__).resolve().parents[1])
        training_flow, monitoring_flow, scoring_flow, rollback_flow, promote_flow = (
            f.from_source(root, f"accelops_flows/{module}.py:{f.fn.__name__}")
            for f, module in ((training_flow, "training"), (monitoring_flow, "monitoring"), (scoring_flow, "scoring"),
                              (rollback_flow, "champion"), (promote_flow, "champion")))
    params = load_params(params_path)
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
    fixed = {"params_path": params_path}
    return [
        # the schedule says "nightly"; a run started by hand keeps the flow's own default reason ("manual")
        training_flow.to_deployment(name="training", parameters=fixed, concurrency_limit=one_at_a_time,
                                    schedules=[Cron(params.serve.training_cron, timezone=params.serve.timezone,
                                                    parameters={"reason": "nightly"})]),
        monitoring_flow.to_deployment(name="monitoring", parameters=fixed, concurrency_limit=one_at_a_time,
                                      schedules=[Interval(timedelta(minutes=params.monitor.schedule_minutes))]),
        scoring_flow.to_deployment(name="scoring", parameters=fixed),
        rollback_flow.to_deployment(name="rollback", parameters=fixed),
        promote_flow.to_deployment(name="promote", parameters=fixed),
    ]


def main() -> None:
    params_path = str(default_params_path().resolve())
    runtime.configure(load_params(params_path))
    runtime.configure_logging()
    from prefect import serve

    serve(*deployments(params_path))


if __name__ == "__main__":
    main()
