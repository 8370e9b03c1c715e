"""The batch-scoring flow: a file scored by @champion on its recommended batch variant."""

from __future__ import annotations

import logging
from typing import Annotated

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed
from pydantic import Field

from accelops.config import load_params
from accelops import runtime
from accelops.runtime import PROGRESS
from accelops_flows.hooks import failure_summary

progress = logging.getLogger(PROGRESS)


@flow(name="scoring", on_failure=[failure_summary])
def scoring_flow(data: Annotated[str, Field(min_length=1)], out: str | None = None,
                 params_path: str | None = None) -> dict:
    """Score a file with @champion on the variant the benchmark recommended for batch scoring; writes
    the entity id, timestamp, probability, model version and variant of every row.

    Args:
        data: CSV or Parquet file to score (the contract's id, timestamp and feature columns; no label needed).
        out: Parquet file to write; empty: <workdir>/scores/<file stem>.scores.parquet.
        params_path: params.yaml to use; empty: ACCELOPS_PARAMS or ./params.yaml.
    """
    from pathlib import Path

    from accelops.pipeline.online import score_batch

    params = load_params(params_path)
    runtime.route_logs(params)          # a served run is a fresh process: its tool output to the workdir too
    scored = score_batch(params, Path(data), Path(out) if out else None)
    line = (f"{scored.rows} rows of {Path(scored.source).name} scored by v{scored.model_version} "
            f"({scored.variant}) in {scored.seconds:.1f} s -> {scored.out}")
    progress.info(line)
    create_markdown_artifact(key="batch-scores", markdown=f"**{line}**\n\nmean probability "
                             f"{scored.mean_probability:.4f}", description="batch scoring")
    return Completed(message=line[:500], data=scored.model_dump())
