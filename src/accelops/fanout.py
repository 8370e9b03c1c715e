"""Fan-out inside a stage: independent pieces of one stage's work (the label check's folds, the
evaluation's slice groups) run in this process one after another, or on Dask workers when
orchestration.task_runner is dask (the same cluster the flow's tuning trials use).

The library cannot import Prefect, so a stage talks to Dask's client directly: prefect-dask's task
runner is itself a client of the same scheduler. Each piece is a pure function of its item and the
shared inputs (scattered to the workers once, not once per piece), seeded by its own index, so the
results are the same wherever the pieces run and in whatever order they finish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from accelops.config import OrchestrationParams, Params

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


class Fanout(Protocol):
    workers: int          # pieces that run at once (each piece sizes its own threads by it)

    def map(self, fn: Callable[..., R], items: Sequence[T], **shared: Any) -> list[R]:
        """[fn(item, **shared) for item in items], in the order of items."""


class InProcess:
    """Every piece in this process, one after another."""
    workers = 1

    def map(self, fn: Callable[..., R], items: Sequence[T], **shared: Any) -> list[R]:
        return [fn(item, **shared) for item in items]


RESERVED = frozenset({"func", "iterables", "key", "workers", "retries", "resources", "priority", "allow_other_workers",
                      "fifo_timeout", "actor", "actors", "pure", "batch_size"})


class OnDask:
    """Every piece a task on a Dask cluster; the shared inputs scattered to every worker once."""

    def __init__(self, client, workers: int):
        self.client, self.workers = client, max(1, workers)

    def map(self, fn: Callable[..., R], items: Sequence[T], **shared: Any) -> list[R]:
        if taken := RESERVED & shared.keys():        # Client.map would take them as its own options
            raise TypeError(f"shared input name(s) {sorted(taken)} are Dask Client.map options: rename them")
        if not items:
            return []
        # each item to one worker, the shared inputs to every worker (a list of one, so that scatter never
        # splits an array or a frame into elements): data in the task graph itself would be resent per task
        pieces = self.client.scatter(list(items), hash=False)
        on_workers = {k: self.client.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
        try:
            return self.client.gather(self.client.map(fn, pieces, pure=False, **on_workers))
        finally:
            for future in [*pieces, *on_workers.values()]:
                future.release()


def piece_threads(fan: Fanout, threads: int = 0) -> int:
    """Threads for one piece: train.threads when set, else this host's cores shared by the pieces that
    run at once (oversubscribed threads are 2-4x slower here)."""
    from accelops.runtime import available_cores

    return threads or max(1, available_cores() // fan.workers)


@contextmanager
def fanout(o: OrchestrationParams) -> Iterator[Fanout]:
    """The stage's fan-out for orchestration params: in process (threads), or a client of the Dask
    scheduler at dask_address, or of a local cluster of dask_workers processes started here and stopped
    on exit."""
    if o.task_runner == "threads":
        yield InProcess()
        return
    from distributed import Client, LocalCluster

    from accelops.runtime import reroute_tools

    reroute_tools("distributed")        # its handlers, installed on import: to the tools log
    if o.dask_address:
        with Client(o.dask_address, set_as_default=False) as client:
            workers = len(client.scheduler_info()["workers"])
            log.info("fan-out on the Dask scheduler %s (%d workers)", o.dask_address, workers)
            yield OnDask(client, workers)
        return
    with LocalCluster(n_workers=o.dask_workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        log.info("fan-out on a local Dask cluster (%d workers)", o.dask_workers)
        yield OnDask(client, o.dask_workers)


@contextmanager
def one_cluster(params: Params) -> Iterator[Params]:
    """params whose stages (and tuning trials) share one local Dask cluster for the whole run, started
    here and stopped on exit, when orchestration asks for dask without a scheduler address; else params
    as they are (threads, or the existing scheduler)."""
    o = params.orchestration
    if o.task_runner != "dask" or o.dask_address:
        yield params
        return
    from distributed import LocalCluster

    from accelops.runtime import reroute_tools

    reroute_tools("distributed")
    with LocalCluster(n_workers=o.dask_workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        log.info("a local Dask cluster of %d workers for this run at %s", o.dask_workers, cluster.scheduler_address)
        yield params.model_copy(update={"orchestration": o.model_copy(update={"dask_address": cluster.scheduler_address})})


# Rows split by entity, for the per-entity pieces (the as-of join, the window aggregates, the suite's row-wise
# rules): every row of one entity lands in one part (a stable hash of its id) and each part keeps the rows in
# file order, so a per-entity computation run on each part alone and put back by row position equals the same
# computation over the whole table, bit for bit.

def entity_parts(keys: pd.Series, parts: int) -> list[np.ndarray]:
    """Row positions of each part, ascending: part = hash(key) mod parts. The hash is pandas' fixed-key
    SipHash of the values, so two columns of one dtype put a key in the same part (cast them to one
    dtype first)."""
    if parts <= 1:
        return [np.arange(len(keys))]
    part = (pd.util.hash_pandas_object(keys, index=False).to_numpy() % np.uint64(parts)).astype(np.int64)
    order = np.argsort(part, kind="stable")              # positions grouped by part, ascending within it
    return np.split(order, np.cumsum(np.bincount(part, minlength=parts))[:-1])


def put_back(n: int, parts: list[np.ndarray], pieces: list[np.ndarray], fill, dtype) -> np.ndarray:
    """One array of n rows from each part's values at that part's row positions."""
    out = np.full(n, fill, dtype=dtype)
    for rows, values in zip(parts, pieces):
        out[rows] = values
    return out
