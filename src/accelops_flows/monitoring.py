"""The monitoring flow: every file that landed in monitor.landing since the last run (each exactly
once; or one `batch` file), validated and scored with @champion, drift-checked, and retraining
started when the retraining policy says so (run_deployment under a served deployment, else a subflow)."""

from __future__ import annotations

import logging
from pathlib import Path

from prefect import flow, get_run_logger, runtime
from prefect.states import Completed

from accelops import runtime as runtime_env
from accelops.config import Params, load_params
from accelops.errors import RetrainingFailed
from accelops.pipeline import batch_stages
from accelops.runtime import PROGRESS
from accelops_flows import tasks as t
from accelops_flows.hooks import failure_summary
from accelops_flows.training import training_flow

progress = logging.getLogger(PROGRESS)
TRAINING_DEPLOYMENT = "training/training"
TRAINING_FLOW = "training"


@flow(name="monitoring", log_prints=True, on_failure=[failure_summary])
def monitoring_flow(batch: str | None = None, params_path: str | None = None) -> dict:
    """Check new data for drift against @champion's training data, and start a retraining when the
    retraining policy says so. Rejected files are quarantined with their reason.

    Args:
        batch: one CSV or Parquet file to check; empty: every file that landed in monitor.landing and was
            not processed before.
        params_path: params.yaml to use; empty: ACCELOPS_PARAMS or ./params.yaml.
    """
    params = load_params(params_path)
    runtime_env.route_logs(params)      # a served run is a fresh process: its tool output to the workdir too
    logger = get_run_logger()
    if batch:
        result = _check(params, params_path, batch)
        return Completed(name=_state_name({batch: result}), message=_outcome({batch: result})[:500], data=result)
    results: dict[str, dict] = {}

    def handle(path):
        results[str(path)] = _check(params, params_path, str(path), keep_going=True)
        return results[str(path)]["decision"]

    landed = batch_stages.process_landed(params, handle)
    logger.info("landing %s: %d file(s) processed, %d quarantined", params.landing,
                sum(f.state == "done" for f in landed), sum(f.state == "quarantined" for f in landed))
    t.publish_landed(landed)
    failed = {f: r["training_error"] for f, r in results.items() if r.get("training_error")}
    if failed:      # the files were checked (not retried, not quarantined); the run's state says what failed
        raise RetrainingFailed("; ".join(f"retraining after {Path(f).name} failed: {e}" for f, e in failed.items()))
    message = _outcome(results) or "nothing new landed"
    quarantined = sum(f.state == "quarantined" for f in landed)
    message += f"; {quarantined} file(s) quarantined" if quarantined else ""
    # the run's state carries the decisions (and a started retraining): its name is the badge in the run
    # list and page, the message says which file and why
    return Completed(name=_state_name(results), message=message[:500], data={"landed": landed, "results": results})


def _state_name(results: dict) -> str:
    """The run's badge: "Retrained" when a file's drift started a retraining, "No retraining" when files
    were checked and none did, "Nothing landed" otherwise (the state stays COMPLETED either way)."""
    if not results:
        return "Nothing landed"
    return "Retrained" if any(r["decision"].retrain for r in results.values()) else "No retraining"


def _outcome(results: dict) -> str:
    """One line per checked file: the decision, and the retraining it started."""
    lines = []
    for path, r in results.items():
        decision = r["decision"]
        verdict = "RETRAIN" if decision.retrain else "no retraining"
        line = f"{Path(path).name}: {verdict} ({decision.reason.split(' [this window')[0][:160]})"
        training = r.get("training")
        if isinstance(training, dict) and "register" in training:
            line += f" -> v{training['register'].version} {training['register'].status}"
        lines.append(line)
    return "; ".join(lines)


def _check(params: Params, params_path: str | None, batch: str, keep_going: bool = False) -> dict:
    """Check one file and start the retraining the policy decided. `keep_going`: a failed retraining is
    recorded in the result (the file's check stands) instead of raised."""
    logger = get_run_logger()
    decision = t.check_batch(params, batch, _training_active())
    result = {"decision": decision, "training": None}
    progress.info("%s: %s (%s)", Path(batch).name, "RETRAIN" if decision.retrain else "no retraining",
                  decision.reason.split(" [this window")[0][:200])
    if not decision.retrain:
        logger.info("no retraining: %s", decision.reason)
        return result
    batches = (decision.policy or {}).get("batches") or [batch]
    retrain_on = t.retraining_data(params, batches)
    data = retrain_on.path
    logger.info("retraining on %s: %d history rows + %d rows of %d batch(es) (%d earlier rows replaced by them)",
                data, retrain_on.previous_rows, retrain_on.batch_rows, len(batches), retrain_on.replaced)
    reason = f"drift: {decision.reason}"
    if runtime.deployment.id:
        from prefect.deployments import run_deployment

        run = run_deployment(TRAINING_DEPLOYMENT, parameters={"data": data, "params_path": params_path,
                                                              "reason": reason, "new_after": retrain_on.new_after},
                             timeout=0)
        result["training"] = {"deployment_flow_run_id": str(run.id)}
    else:
        try:
            result["training"] = training_flow(data=data, params_path=params_path, reason=reason,
                                               new_after=retrain_on.new_after)
        except Exception as exc:
            if not keep_going:
                raise
            logger.error("retraining after %s failed: %s: %s", batch, type(exc).__name__, exc)
            result["training_error"] = f"{type(exc).__name__}: {exc}"
    return result


def _training_active(within_minutes: float = 60) -> bool:
    """True when a training flow run is running or pending, or scheduled to start within the hour."""
    from datetime import datetime, timedelta, timezone

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState,
                                                FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType

    own = runtime.flow_run.parent_flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[TRAINING_FLOW])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.RUNNING, StateType.PENDING, StateType.SCHEDULED]))))
    soon = datetime.now(timezone.utc) + timedelta(minutes=within_minutes)
    return any(r.id != own and (r.state_type != StateType.SCHEDULED or
                                (r.expected_start_time is not None and r.expected_start_time <= soon))
               for r in runs)
