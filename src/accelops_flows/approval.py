"""Manual approval (register.approval: manual): the flow pauses with a typed approve/reject form in
the Prefect UI; the decision (or the timeout, which rejects) is recorded on the version and in the
champion history."""

from __future__ import annotations

from prefect import flow, get_run_logger, pause_flow_run, runtime
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from pydantic import Field

from accelops.config import load_params
from accelops.registry.promotion import Registration

POLL_SECONDS = 2


class Approval(RunInput):
    """The form a person fills in to resume the paused flow."""
    approve: bool = Field(description="Make this version @champion (it passed every gate rule)?")
    reason: str = Field(min_length=1, description="Why: recorded on the version and in the champion history")


@flow(name="approval")
def approval_flow(registration: dict, params_path: str | None = None) -> dict:
    """Wait for a person's decision on a PENDING_APPROVAL version (register.approval_timeout_s)."""
    from accelops.registry import history
    from accelops.registry.promotion import decide_approval

    params = load_params(params_path)
    record = Registration.model_validate(registration)
    logger = get_run_logger()
    logger.info("v%s passed every gate rule and waits for approval (%s): resume this flow run in the Prefect UI",
                record.version, record.reason)
    try:
        answer = pause_flow_run(wait_for_input=Approval, timeout=params.register_.approval_timeout_s,
                                poll_interval=POLL_SECONDS, key=f"approve-v{record.version}")
        approve, reason, who = answer.approve, answer.reason, f"approver via prefect flow run {runtime.flow_run.name}"
    except FlowPauseTimeout:
        approve, reason, who = False, f"no decision within {params.register_.approval_timeout_s} s", "approval timeout"
    decided = decide_approval(history.for_params(params), record, approve, reason, who)
    logger.info("v%s %s: %s", decided.version, decided.status, decided.reason)
    return decided.model_dump(mode="json")
