"""Flow-run hooks: a failed run leaves a clear summary where people look (a Prefect artifact on the
run, and reports/last_failure.md in the workdir)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from accelops.runtime import PROGRESS


def failure_summary(flow, flow_run, state) -> None:
    """on_failure: what failed, why (the state's message: the typed error and its text), which run and
    parameters, and where the reports are."""
    from prefect.artifacts import create_markdown_artifact

    from accelops.config import load_params

    params_path = (flow_run.parameters or {}).get("params_path")
    text = "\n".join([
        f"# {flow.name} run {flow_run.name} failed",
        "",
        f"- when: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- why: {state.message or state.name}",
        f"- parameters: {dict(flow_run.parameters or {})}",
    ])
    try:
        params = load_params(params_path)
        lay = params.layout
        text += (f"\n- reports: {lay.reports} (validation.json, quarantine in {lay.quarantine_dir})"
                 f"\n- full log: {lay.run_log}")
        lay.reports.mkdir(parents=True, exist_ok=True)
        (lay.reports / "last_failure.md").write_text(text + "\n")
    except Exception as exc:               # the summary must not hide the failure it describes
        text += f"\n- (no params to locate the reports: {type(exc).__name__}: {exc})"
    create_markdown_artifact(key="failure", markdown=text, description=f"{flow.name} failed: {state.message}"[:2000])
    logging.getLogger(PROGRESS).error("%s failed: %s (summary: reports/last_failure.md)", flow.name, state.message)
