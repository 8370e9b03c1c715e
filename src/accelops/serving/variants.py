"""What can run a model, and the runners that do: for a network, torch eager, torch.compile and ONNX
Runtime, at fp32, bf16, fp16 or int8, on each device present; for a gradient-boosting model,
scikit-learn and Treelite on the CPU. A runner maps standardised numpy inputs to float64 logits (host to host,
as a caller sees it)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from accelops.config import BenchmarkParams
from accelops.errors import ServingError
from accelops.training import model_folder

log = logging.getLogger(__name__)
PIN_ROWS = 8192


@dataclass(frozen=True)
class Variant:
    model: str       # "teacher" | "student"
    runtime: str     # "eager" | "compile" | "onnxruntime" (networks) | "sklearn" | "treelite" (boosting)
    precision: str   # "fp32" | "bf16" | "fp16" | "int8"
    device: str      # "cpu" | "cuda"

    @property
    def name(self) -> str:
        return f"{self.model}/{self.runtime}/{self.precision}/{self.device}"

    @classmethod
    def parse(cls, name: str) -> "Variant":
        parts = name.split("/")
        if len(parts) != 4:
            raise ServingError(f"variant name {name!r} is not model/runtime/precision/device")
        return cls(*parts)

    def fields(self) -> dict[str, str]:
        """model, runtime, precision and device, as the benchmark's rows and skip list carry them."""
        return asdict(self)


REFERENCE = Variant("teacher", "eager", "fp32", "cpu")
BOOSTING_REFERENCE = Variant("teacher", "sklearn", "fp32", "cpu")
BOOSTING_VARIANTS = (BOOSTING_REFERENCE, Variant("teacher", "treelite", "fp32", "cpu"))


def reference_for(model_dir: Path) -> Variant:
    """The variant every other is compared with, and the one served without a benchmark."""
    return BOOSTING_REFERENCE if model_folder.kind(model_dir) == "boosting" else REFERENCE


def present_devices() -> list[str]:
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def ort_providers() -> list[str]:
    import onnxruntime as ort

    return ort.get_available_providers()


def supported(v: Variant) -> str | None:
    """None when `v` can run natively here, else the reason it is skipped."""
    import torch

    from accelops.training.device import cpu_has_native_bf16

    if v.runtime in ("sklearn", "treelite"):
        return None if v in BOOSTING_VARIANTS else f"a gradient-boosting model runs in {v.runtime} at fp32 on CPU"
    if v.device == "cuda" and not torch.cuda.is_available():
        return "no CUDA device"
    if v.runtime == "onnxruntime":
        provider = "CUDAExecutionProvider" if v.device == "cuda" else "CPUExecutionProvider"
        if provider not in ort_providers():
            return f"onnxruntime has no {provider}"
        if v.precision != "fp32":
            return "the ONNX export is fp32"
    if v.precision == "int8" and (v.device != "cpu" or v.runtime != "eager"):
        return "int8 dynamic quantisation is a CPU eager path"
    if v.precision == "fp16" and v.device != "cuda":
        return "fp16 is emulated on CPU"
    if v.precision == "bf16":
        if v.device == "cpu" and not cpu_has_native_bf16():
            return "this CPU has no native bf16 (measured 32x slower emulated)"
        if v.device == "cuda" and not torch.cuda.is_bf16_supported():
            return "this GPU has no bf16"
    if v.runtime == "compile" and v.device == "cpu" and v.precision != "fp32":
        return "torch.compile on CPU is benchmarked at fp32 only (one ~18 s compile per variant)"
    if v.model == "student" and v.precision != "fp32":
        return "the student is benchmarked at fp32"
    return None


def plan(bench: BenchmarkParams, with_student: bool, kind: str = "network") -> tuple[list[Variant], list[dict]]:
    """Every variant the params ask for that runs here (reference first), and the skipped ones with why.
    A gradient-boosting model has two: scikit-learn and Treelite, at fp32 on CPU."""
    if kind == "boosting":
        why = "the challenger is a gradient-boosting model: scikit-learn or Treelite at fp32 on CPU serves it"
        return list(BOOSTING_VARIANTS), [{"model": "teacher", "runtime": r, "precision": "*", "device": "*",
                                       "name": f"teacher/{r}/*/*", "reason": why} for r in bench.runtimes]
    devices = present_devices() if "auto" in bench.devices else [d for d in bench.devices]
    models = ["teacher"] + (["student"] if with_student else [])
    chosen, skipped = [REFERENCE], []
    for model in models:
        for device in devices:
            for runtime in bench.runtimes:
                for precision in bench.precisions:
                    v = Variant(model, runtime, precision, device)
                    if v == REFERENCE:
                        continue
                    if (why := supported(v)) is None:
                        chosen.append(v)
                    else:
                        skipped.append(v.fields() | {"name": v.name, "reason": why})
    return chosen, skipped


def model_dir_for(model_dir: Path, v: Variant, serving_dir: Path | None = None) -> Path:
    """The teacher's model folder is model_dir; the student's is inside serving_dir (written by the benchmark)."""
    path = model_folder.student_dir(serving_dir or model_dir) if v.model == "student" else Path(model_dir)
    if not model_folder.has_weights(path):
        raise ServingError(f"{path}: no saved {v.model} model for variant {v.name}")
    return path


class TorchRunner:
    def __init__(self, model_dir: Path, v: Variant, serving_dir: Path | None = None):
        import torch

        model = model_folder.load(model_dir_for(model_dir, v, serving_dir)).network
        if v.precision == "int8":
            with warnings.catch_warnings():  # torch.ao is deprecated in favour of torchao (not installed)
                warnings.simplefilter("ignore")
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.device = torch.device(v.device)
        self.model = model.to(self.device).eval()
        if v.runtime == "compile":
            from accelops.runtime import reroute_tools

            reroute_tools("torch")    # dynamo / inductor warnings go to the tools log
            self.model = torch.compile(self.model, dynamic=True)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(v.precision)
        self.autocast = dict(device_type=v.device, dtype=dtype or torch.float32, enabled=dtype is not None)
        self.cuda = v.device == "cuda"

    def __call__(self, xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
        import torch

        tn, tc = torch.from_numpy(xn), torch.from_numpy(xc)
        if self.cuda:
            if len(xn) >= PIN_ROWS:     # page-locked staging pays off for large copies only
                tn, tc = tn.pin_memory(), tc.pin_memory()
            tn, tc = tn.to(self.device, non_blocking=True), tc.to(self.device, non_blocking=True)
        with torch.inference_mode(), torch.autocast(**self.autocast):
            out = self.model(tn, tc)
        return out.double().cpu().numpy()

    def device_ms(self, xn: np.ndarray, xc: np.ndarray, repeats: int = 20) -> float | None:
        """Median GPU time of the forward pass alone (CUDA events, inputs already resident)."""
        import torch

        if not self.cuda:
            return None
        tn, tc = torch.from_numpy(xn).to(self.device), torch.from_numpy(xc).to(self.device)
        times = []
        with torch.inference_mode(), torch.autocast(**self.autocast):
            for _ in range(repeats):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                self.model(tn, tc)
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
        return float(np.median(times))


class OrtRunner:
    def __init__(self, model_dir: Path, v: Variant, threads: int, serving_dir: Path | None = None):
        import onnxruntime as ort

        path = model_folder.onnx_path(model_dir_for(model_dir, v, serving_dir))
        if not path.exists():
            raise ServingError(f"{path}: no ONNX export for variant {v.name}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        provider = "CUDAExecutionProvider" if v.device == "cuda" else "CPUExecutionProvider"
        self.session = ort.InferenceSession(str(path), options, providers=[provider])

    def __call__(self, xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"numeric": xn, "categorical": xc})[0].astype(np.float64)

    def device_ms(self, xn, xc, repeats: int = 20) -> None:
        return None


class SklearnRunner:
    """A gradient-boosting model's decision function (its logits), with scikit-learn's OpenMP threads
    limited to `threads` during each call (the process-wide limit is restored after it)."""

    def __init__(self, model_dir: Path, threads: int):
        if model_folder.kind(model_dir) != "boosting":
            raise ServingError(f"{model_dir}: variant {BOOSTING_REFERENCE.name} needs a gradient-boosting model")
        self.model = model_folder.load_boosting(model_dir)
        self.threads = threads

    def __call__(self, xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        from accelops.training.baseline import design

        with threadpool_limits(limits=self.threads, user_api="openmp"):
            return self.model.decision_function(design(xn, xc)).astype(np.float64)

    def device_ms(self, xn, xc, repeats: int = 20) -> None:
        return None


class TreeliteRunner:
    """The same trees compiled for Treelite's predictor: raw margins (logits) with `threads` threads."""

    def __init__(self, model_dir: Path, threads: int):
        import treelite

        self.model = model_folder.load_treelite(model_dir)
        self.predict = treelite.gtil.predict
        self.threads = threads

    def __call__(self, xn: np.ndarray, xc: np.ndarray) -> np.ndarray:
        import treelite

        from accelops.training.baseline import design

        x = design(xn, xc)
        try:
            out = self.predict(self.model, x, nthread=self.threads, pred_margin=True)
        except treelite.TreeliteError:
            # more threads than the process's OpenMP limit (torch.set_num_threads lowers it): use that limit
            self.threads = -1
            out = self.predict(self.model, x, nthread=-1, pred_margin=True)
        return np.asarray(out, dtype=np.float64).reshape(len(xn))

    def device_ms(self, xn, xc, repeats: int = 20) -> None:
        return None


def load_runner(model_dir: Path, v: Variant, threads: int, serving_dir: Path | None = None):
    """A callable (xn, xc) -> logits for variant `v` of the model saved in `model_dir`."""
    if (why := supported(v)) is not None:
        raise ServingError(f"variant {v.name} cannot run here: {why}")
    if v.runtime == "sklearn":
        return SklearnRunner(Path(model_dir), threads)
    if v.runtime == "treelite":
        return TreeliteRunner(Path(model_dir), threads)
    if (model_folder.kind(model_dir) == "boosting") and v.model == "teacher":
        raise ServingError(f"{model_dir}: a gradient-boosting model has no {v.name} variant")
    if v.runtime == "onnxruntime":
        return OrtRunner(Path(model_dir), v, threads, serving_dir)
    return TorchRunner(Path(model_dir), v, serving_dir)


def temperature(model_dir: Path, v: Variant, serving_dir: Path | None = None) -> float:
    return model_folder.read_temperature(model_dir_for(model_dir, v, serving_dir))
