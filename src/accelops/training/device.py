"""Pick the compute device and thread count at run time (cuda, then mps, then cpu)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    type: str          # "cuda" | "mps" | "cpu"
    name: str          # human-readable device name
    threads: int       # intra-op threads used on the CPU side


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def choose_device(requested: str = "auto", threads: int = 0) -> DeviceChoice:
    """Resolve `requested` to a present device; asking for an absent one is an error, not a fallback."""
    import torch

    n_threads = threads or available_cores()
    torch.set_num_threads(n_threads)
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested == "auto":
        requested = "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda":
        if not cuda:
            raise RuntimeError("train.device is 'cuda' but no CUDA device is available")
        return DeviceChoice("cuda", torch.cuda.get_device_name(0), n_threads)
    if requested == "mps":
        if not mps:
            raise RuntimeError("train.device is 'mps' but MPS is not available")
        return DeviceChoice("mps", "Apple MPS", n_threads)
    import platform

    return DeviceChoice("cpu", platform.processor() or platform.machine() or "cpu", n_threads)
