"""Operator flows on @champion, for the Prefect UI: roll back, or promote a version (an audited
override). Each move is recorded in the champion history with the flow run as the actor."""

from __future__ import annotations

import os

from prefect import flow, get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact

from accelops.config import load_params


def _record(event) -> dict:
    create_markdown_artifact(
        key="champion-move", description="@champion moved",
        markdown=f"**{event.action}**: @champion v{event.from_version} -> v{event.to_version} by {event.who} "
                 f"at {event.at}\n\n{event.reason}")
    get_run_logger().info("@champion v%s -> v%s (%s): %s", event.from_version, event.to_version, event.action,
                          event.reason)
    return event.model_dump()


def _as_flow_run() -> None:
    os.environ["ACCELOPS_ACTOR"] = f"prefect flow run {runtime.flow_run.name}"


@flow(name="rollback")
def rollback_flow(reason: str, to: str | None = None, force: bool = False, params_path: str | None = None) -> dict:
    """Move @champion back to the version it replaced (or another), recorded in the champion history.

    Args:
        reason: why, recorded in the champion history.
        to: the version to return to; empty: the one the current champion replaced.
        force: allow a version that never passed the promotion gate.
        params_path: params.yaml to use; empty: ACCELOPS_PARAMS or ./params.yaml.
    """
    from accelops.registry import history

    _as_flow_run()
    return _record(history.rollback(history.for_params(load_params(params_path)), reason, to, force))


@flow(name="promote")
def promote_flow(version: str, reason: str, force: bool = False, params_path: str | None = None) -> dict:
    """Make a version @champion: an audited override, recorded in the champion history.

    Args:
        version: the model version to promote.
        reason: why, recorded in the champion history.
        force: allow a version that never passed the promotion gate.
        params_path: params.yaml to use; empty: ACCELOPS_PARAMS or ./params.yaml.
    """
    from accelops.registry import history

    _as_flow_run()
    return _record(history.promote(history.for_params(load_params(params_path)), version, reason, force))
