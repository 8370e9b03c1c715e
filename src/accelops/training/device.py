"""Pick the compute device and thread count at run time (cuda, then mps, then cpu)."""

from __future__ import annotations

from dataclasses import dataclass

from accelops.errors import ConfigError
from accelops.runtime import available_cores


@dataclass(frozen=True)
class DeviceChoice:
    type: str          # "cuda" | "mps" | "cpu"
    name: str          # human-readable device name
    threads: int       # intra-op threads used on the CPU side


def choose_device(requested: str = "auto", threads: int = 0) -> DeviceChoice:
    """Resolve `requested` to a present device; asking for an absent one is a ConfigError, not a fallback."""
    import torch

    n_threads = threads or available_cores()
    torch.set_num_threads(n_threads)
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested == "auto":
        requested = "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda":
        if not cuda:
            raise ConfigError("train.device is 'cuda' but no CUDA device is available")
        return DeviceChoice("cuda", torch.cuda.get_device_name(0), n_threads)
    if requested == "mps":
        if not mps:
            raise ConfigError("train.device is 'mps' but MPS is not available")
        return DeviceChoice("mps", "Apple MPS", n_threads)
    import platform

    return DeviceChoice("cpu", platform.processor() or platform.machine() or "cpu", n_threads)


def cpu_has_native_bf16() -> bool:
    """True when the CPU advertises bf16 arithmetic (AVX512-BF16 or AMX-BF16); read, not assumed."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def choose_precision(requested: str, device_type: str) -> str:
    """'auto' picks bf16 autocast on CUDA with bf16 support and on CPUs with native bf16, else fp32.
    On CPUs without it bf16 is emulated and was measured 32x slower, so it is never chosen there."""
    import torch

    if requested == "fp32":
        return "fp32"
    supported = (device_type == "cuda" and torch.cuda.is_bf16_supported()) or \
        (device_type == "cpu" and cpu_has_native_bf16())
    if requested == "bf16" and not supported:
        raise ConfigError(f"train.precision is 'bf16' but the {device_type} device has no native bf16 support")
    return "bf16" if supported else "fp32"
