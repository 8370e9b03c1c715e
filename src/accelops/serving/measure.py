"""Timing done right: warm-up excluded, many repeats within a time budget, host-to-host latency
(a runner returns numpy, so CUDA work is synchronised before the clock stops), CUDA-event device
time beside it, percentiles, throughput, and peak memory per variant."""

from __future__ import annotations

import time

import numpy as np
from pydantic import BaseModel

MAX_REPEATS = 2000


class Cell(BaseModel):
    """Latency percentiles and throughput of one variant at one batch size."""
    batch_size: int
    repeats: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    rows_per_s: float          # batch_size / median latency
    device_ms: float | None    # CUDA-event time of the forward pass alone (None off CUDA)


def tile(a: np.ndarray, rows: int) -> np.ndarray:
    """`rows` rows of `a`, repeated as needed (contiguous, so no copy happens inside the timing)."""
    reps = -(-rows // len(a))
    return np.ascontiguousarray(np.concatenate([a] * reps)[:rows] if reps > 1 else a[:rows])


def time_cell(runner, xn: np.ndarray, xc: np.ndarray, batch: int, warmup: int, min_repeats: int,
              max_seconds: float) -> Cell:
    a, c = tile(xn, batch), tile(xc, batch)
    for _ in range(warmup):
        runner(a, c)
    samples: list[float] = []
    clock = time.perf_counter
    began = clock()
    while len(samples) < min_repeats or (clock() - began < max_seconds and len(samples) < MAX_REPEATS):
        t0 = clock()
        runner(a, c)
        samples.append(clock() - t0)
    ms = np.asarray(samples) * 1e3
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return Cell(batch_size=batch, repeats=len(ms), p50_ms=float(p50), p95_ms=float(p95), p99_ms=float(p99),
                mean_ms=float(ms.mean()), rows_per_s=float(batch / (p50 / 1e3)), device_ms=runner.device_ms(a, c))


class PeakMemory:
    """Peak memory while a variant runs: CUDA max_memory_allocated on GPU; on Linux the process
    high-water mark (VmHWM, reset through /proc/self/clear_refs) above the resident size at start."""

    def __init__(self, device: str):
        self.device = device

    def __enter__(self) -> "PeakMemory":
        self.mb: float | None = None
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.base = _status_kb("VmRSS")
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.base = None
        return self

    def __exit__(self, *exc) -> None:
        if self.device == "cuda":
            import torch

            self.mb = (torch.cuda.max_memory_allocated() - self.base) / 2**20
        elif self.base is not None and (hwm := _status_kb("VmHWM")) is not None:
            self.mb = max(0.0, (hwm - self.base) / 1024)


def _status_kb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def logits_all(runner, xn: np.ndarray, xc: np.ndarray, batch: int = 8192) -> np.ndarray:
    out = np.empty(len(xn), dtype=np.float64)
    for s in range(0, len(xn), batch):
        out[s:s + batch] = np.asarray(runner(xn[s:s + batch], xc[s:s + batch])).reshape(-1)
    return out


def power_watts() -> float | None:
    """Current board power of CUDA device 0 when the driver reports it (needs pynvml), else None."""
    try:
        import torch

        return float(torch.cuda.power_draw()) / 1000.0
    except Exception:  # noqa: BLE001 - optional figure: no pynvml, no permission, no GPU
        return None
