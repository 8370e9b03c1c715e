"""One Prefect task per pipeline stage; the work is in accelops.pipeline."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from accelops.config import Params
from accelops.pipeline import monitoring, stages

# Stages write files and registries: never serve them from a cache.
_stage = dict(cache_policy=NO_CACHE, persist_result=False)


@task(name="validate", tags=["data"], **_stage)
def validate(params: Params, data: str | None) -> dict:
    return stages.validate(params, Path(data) if data else None)


@task(name="features", tags=["feast"], **_stage)
def features(params: Params) -> dict:
    return stages.features(params)


@task(name="train", tags=["torch"], **_stage)
def train(params: Params) -> dict:
    return stages.train(params)


@task(name="evaluate", tags=["evaluation"], **_stage)
def evaluate(params: Params) -> dict:
    return stages.evaluate(params)


@task(name="register", tags=["mlflow"], **_stage)
def register(params: Params, reason: str) -> dict:
    return stages.register(params, reason)


@task(name="materialize", tags=["feast"], retries=2, retry_delay_seconds=5, **_stage)
def materialize(params: Params) -> dict:
    return stages.materialize(params)


@task(name="check-batch", tags=["monitoring"], **_stage)
def check_batch(params: Params, batch: str) -> dict:
    return monitoring.check_batch(params, Path(batch))


@task(name="retraining-data", tags=["monitoring"], **_stage)
def retraining_data(params: Params, batch: str) -> str:
    return str(monitoring.retraining_data(params, Path(batch)))
