"""Typed results of the accelerator benchmark (reports/benchmark/benchmark.json): one row per
(variant, batch size), the recommendation for online and batch serving, and the run's facts."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(_Record):
    """A recommended (variant, batch size) with the figures it was chosen on."""
    variant: str
    model: str
    runtime: str
    precision: str
    device: str
    batch_size: int
    p50_ms: float
    p99_ms: float
    rows_per_s: float
    cost_per_million: float
    auc_drop: float
    max_prob_diff: float


class Objective(_Record):
    online_p99_ms: float
    max_auc_drop: float
    max_prob_diff: float


class Recommendation(_Record):
    online: Choice | None
    online_reason: str
    meets_online_objective: bool
    batch: Choice | None
    batch_reason: str
    objective: Objective
    cpu_fallback: Recommendation | None = None   # the same choice restricted to the CPU


class BenchmarkRow(Choice):
    """One (variant, batch size) cell of the benchmark: the figures a choice is made on, and the rest."""
    repeats: int
    p95_ms: float
    mean_ms: float
    device_ms: float | None          # CUDA-event time of the forward pass (None off CUDA)
    joules_per_million: float | None
    peak_memory_mb: float | None
    setup_s: float
    auc: float
    pareto: bool = False             # on the p99 / cost Pareto front


class Conditions(_Record):
    """What the timings were taken under: a shared machine's load changes tail latencies several-fold."""
    threads: int
    cores: int
    load_average_start: float          # 1-minute load average when the benchmark began
    load_average_end: float
    remeasured: list[str] = []         # variants timed again at batch 1 before refusing the online objective


class BenchmarkResult(_Record):
    enabled: Literal[True] = True
    schema_version: Literal[1] = 1
    model_dir: str
    model_hash: str                  # sha256 of the weights benchmarked (register refuses another model's)
    test_rows: int
    reference: str
    reference_auc: float
    threads: int
    machine: dict[str, str | None]
    student: dict | None             # the distilled student's facts when one was trained or reused
    variants: list[str]
    skipped: list[dict[str, str]]    # variants that cannot run here, each with its reason
    batch_sizes: list[int]
    budget: list[str] = []           # what benchmark.scale_rows cut for a small table (serving.benchmark.budget)
    price_per_hour: dict[str, float]
    rows: list[BenchmarkRow]
    recommendation: Recommendation
    conditions: Conditions
    seconds: float


class BenchmarkSkipped(_Record):
    enabled: Literal[False] = False
    reason: str = "benchmark.enabled is false"


BenchmarkOutcome = Annotated[Union[BenchmarkResult, BenchmarkSkipped], Field(discriminator="enabled")]
OUTCOME = TypeAdapter(BenchmarkOutcome)
