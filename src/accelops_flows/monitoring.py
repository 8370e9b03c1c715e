"""The monitoring flow: validate + score a new batch with @champion, measure drift, and trigger
retraining when drift is confirmed (run_deployment under a served deployment, else a subflow)."""

from __future__ import annotations

from prefect import flow, get_run_logger, runtime

from accelops.config import load_params
from accelops_flows import tasks as t
from accelops_flows.training import training_flow

TRAINING_DEPLOYMENT = "training/training"


@flow(name="monitoring", log_prints=True)
def monitoring_flow(batch: str, params_path: str | None = None) -> dict:
    params = load_params(params_path)
    logger = get_run_logger()
    decision = t.check_batch(params, batch)
    result = {"decision": decision, "training": None}
    if not decision.retrain:
        logger.info("no retraining: %s", decision.reason)
        return result
    retrain_on = t.retraining_data(params, batch)
    data = retrain_on.path
    logger.info("retraining on %s: %d history rows + %d batch rows (%d history rows replaced by the batch)",
                data, retrain_on.previous_rows, retrain_on.batch_rows, retrain_on.replaced)
    reason = f"drift: {decision.reason}"
    if runtime.deployment.id:
        from prefect.deployments import run_deployment

        run = run_deployment(TRAINING_DEPLOYMENT, parameters={"data": data, "params_path": params_path,
                                                              "reason": reason}, timeout=0)
        result["training"] = {"deployment_flow_run_id": str(run.id)}
    else:
        result["training"] = training_flow(data=data, params_path=params_path, reason=reason)
    return result
