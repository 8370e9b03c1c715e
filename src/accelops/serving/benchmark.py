"""The accelerator benchmark: every variant that runs here (device x precision x runtime, plus a
distilled student) timed at each batch size, with its accuracy delta against the fp32 torch-eager
reference on the test split, its peak memory and its cost per million predictions; then the
recommendation for online and batch serving, written into the serving folder as serving.json (the
serving path reads it; the student is saved beside it) and as a table, JSON and plots for MLflow."""

from __future__ import annotations

import csv
import json
import logging
import os
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from accelops.config import BenchmarkParams, Contract
from accelops.errors import ServingError
from accelops.serving import measure
from accelops.serving.recommend import accurate, cost_per_million, pareto_front, recommend
from accelops.serving.schema import BenchmarkResult, Choice, Conditions, Recommendation
from accelops.serving.variants import load_runner, plan, reference_for, temperature
from accelops.training import model_folder

log = logging.getLogger(__name__)
COLUMNS = ("variant", "model", "runtime", "precision", "device", "batch_size", "repeats", "p50_ms", "p95_ms",
           "p99_ms", "mean_ms", "rows_per_s", "device_ms", "cost_per_million", "joules_per_million",
           "peak_memory_mb", "setup_s", "auc", "auc_drop", "max_prob_diff")


def budget(bench: BenchmarkParams, data_rows: int | None) -> tuple[BenchmarkParams, list[str]]:
    """The benchmark sized to the data it serves (benchmark.scale_rows): below that many rows, compile
    runtimes are dropped (a one-off 18-35 s is not paid back at that volume), batch sizes above the
    data's rows are dropped (the largest batch that fits is kept), and each cell's timing budget shrinks
    in proportion (min_repeats still timed). Returns the params used and a line per change."""
    if data_rows is None or data_rows >= bench.scale_rows:
        return bench, []
    notes, update = [], {}
    if "compile" in bench.runtimes and len(bench.runtimes) > 1:
        update["runtimes"] = [r for r in bench.runtimes if r != "compile"]
        notes.append(f"compile skipped: {data_rows} rows < benchmark.scale_rows {bench.scale_rows} (its one-off "
                     "cost is not paid back at this volume)")
    fits = [b for b in bench.batch_sizes if b <= data_rows] or [min(bench.batch_sizes)]
    if len(fits) < len(bench.batch_sizes):
        update["batch_sizes"] = fits
        notes.append(f"batch sizes above the data's {data_rows} rows dropped: kept {fits}")
    update["max_seconds_per_cell"] = bench.max_seconds_per_cell * data_rows / bench.scale_rows
    notes.append(f"timing budget per cell {update['max_seconds_per_cell']:.3f} s ({data_rows} / "
                 f"{bench.scale_rows} of {bench.max_seconds_per_cell} s; at least {bench.min_repeats} calls)")
    return bench.model_copy(update=update), notes


def run_benchmark(model_dir: Path, test_df: pd.DataFrame, contract: Contract, bench: BenchmarkParams,
                  out_dir: Path, serving_dir: Path, train_df: pd.DataFrame | None = None, seed: int = 0,
                  data_rows: int | None = None) -> BenchmarkResult:
    """Benchmark the model in `model_dir` on `test_df`; `train_df` enables the distilled student;
    `data_rows` (the table's size) budgets the work (`budget`)."""
    import torch

    from accelops.evaluation.metrics import fast_auc
    from accelops.runtime import available_cores

    if len(test_df) == 0 or contract.label not in test_df:
        raise ServingError(f"benchmark needs labelled test rows (column {contract.label!r}); got {len(test_df)} rows")
    started = time.perf_counter()
    bench, budgeted = budget(bench, data_rows)
    for line in budgeted:
        log.info("benchmark budget: %s", line)
    load_before = os.getloadavg()[0]
    threads = bench.threads or available_cores()
    torch.set_num_threads(threads)
    model_dir, out_dir, serving_dir = Path(model_dir), Path(out_dir), Path(serving_dir)
    serving_dir.mkdir(parents=True, exist_ok=True)
    model_folder.serving_file(serving_dir).unlink(missing_ok=True)   # never serve a stale recommendation
    student = None
    kind = model_folder.kind(model_dir)
    reference = reference_for(model_dir)
    if kind == "boosting":
        pass                                                          # students are distilled from networks
    elif bench.student.enabled and train_df is not None and len(train_df):
        from accelops.serving.distill import distill

        student = distill(model_dir, train_df, bench.student, serving_dir, seed)
    elif bench.student.enabled and model_folder.has_weights(model_folder.student_dir(serving_dir)):
        student = {"dir": str(model_folder.student_dir(serving_dir)), "reused": True}   # e.g. a registered model's
    variants, skipped = plan(bench, with_student=student is not None, kind=kind)
    xn, xc = model_folder.read_preprocessor(model_dir).transform(test_df)
    y = test_df[contract.label].to_numpy()

    rows: list[dict] = []
    ref_prob: np.ndarray | None = None
    ref_auc = float("nan")
    for i, v in enumerate(variants, 1):
        log.info("benchmark %d/%d: %s", i, len(variants), v.name)
        with measure.PeakMemory(v.device) as mem:
            t0 = time.perf_counter()
            runner = load_runner(model_dir, v, threads, serving_dir)
            runner(xn[:1], xc[:1])                        # builds / compiles; excluded from latency
            setup_s = time.perf_counter() - t0
            prob = model_folder.calibrated(measure.logits_all(runner, xn, xc), temperature(model_dir, v, serving_dir))
            cells = [measure.time_cell(runner, xn, xc, b, bench.warmup, bench.min_repeats, bench.max_seconds_per_cell)
                     for b in bench.batch_sizes]
            watts = measure.power_watts() if v.device == "cuda" else None
        if v == reference:
            ref_prob, ref_auc = prob, fast_auc(y, prob)
        auc = fast_auc(y, prob)
        price = bench.price_per_hour.get(v.device, bench.price_per_hour["cpu"])
        for cell in cells:
            rows.append(v.fields() | {"variant": v.name} | cell.model_dump() | {
                "cost_per_million": cost_per_million(price, cell.rows_per_s),
                "joules_per_million": None if watts is None else watts / cell.rows_per_s * 1e6,
                "peak_memory_mb": mem.mb, "setup_s": setup_s, "auc": auc, "auc_drop": ref_auc - auc,
                "max_prob_diff": float(np.max(np.abs(prob - ref_prob))) if ref_prob is not None else 0.0})
        del runner
    choice = _recommendation(rows, bench)
    remeasured: list[str] = []
    if not choice.meets_online_objective:        # one more, longer measurement before a refusal
        remeasured = _remeasure_online(rows, variants, model_dir, serving_dir, xn, xc, threads, bench)
        choice = _recommendation(rows, bench)
    for i in pareto_front([(r["p99_ms"], r["cost_per_million"]) for r in rows]):
        rows[i]["pareto"] = True
    conditions = Conditions(threads=threads, load_average_start=load_before, load_average_end=os.getloadavg()[0],
                            cores=available_cores(), remeasured=remeasured)
    if not choice.meets_online_objective:
        choice.online_reason += (f" (after re-measuring {len(remeasured)} variant(s) at batch 1; load average "
                                 f"{conditions.load_average_end:.2f} on {conditions.cores} cores, {threads} threads)")
    result = BenchmarkResult(
        model_dir=str(model_dir), model_hash=model_folder.weights_hash(model_dir), test_rows=int(len(test_df)),
        reference=reference.name, reference_auc=ref_auc, threads=threads, machine=_machine(), student=student,
        variants=[v.name for v in variants], skipped=skipped, batch_sizes=list(bench.batch_sizes), budget=budgeted,
        price_per_hour=bench.price_per_hour, rows=rows, recommendation=choice, conditions=conditions,
        seconds=time.perf_counter() - started)
    write_outputs(result, out_dir)
    model_folder.serving_file(serving_dir).write_text(json.dumps(serving_config(choice), indent=2))
    log.info("benchmark of %d variants x %d batch sizes in %.1f s; online: %s; batch: %s", len(variants),
             len(bench.batch_sizes), result.seconds, choice.online_reason, choice.batch_reason)
    return result


def _recommendation(rows: list[dict], bench: BenchmarkParams) -> Recommendation:
    cpu = recommend(rows, bench, devices=["cpu"])
    return Recommendation.model_validate(recommend(rows, bench) | {"cpu_fallback": cpu})


def _remeasure_online(rows: list[dict], variants: list, model_dir: Path, serving_dir: Path, xn: np.ndarray,
                      xc: np.ndarray, threads: int, bench: BenchmarkParams) -> list[str]:
    """Time batch 1 again for every accurate variant, with 5x the repeats and budget, and keep the better
    of the two measurements (load from other processes only ever adds latency); rows change in place."""
    names = {r["variant"] for r in rows if r["batch_size"] == 1 and accurate(r, bench)}
    for v in (v for v in variants if v.name in names):
        runner = load_runner(model_dir, v, threads, serving_dir)
        runner(xn[:1], xc[:1])
        cell = measure.time_cell(runner, xn, xc, 1, bench.warmup, bench.min_repeats * 5, bench.max_seconds_per_cell * 5)
        for r in rows:
            if r["variant"] == v.name and r["batch_size"] == 1 and cell.p99_ms < r["p99_ms"]:
                price = bench.price_per_hour.get(v.device, bench.price_per_hour["cpu"])
                r |= cell.model_dump() | {"cost_per_million": cost_per_million(price, cell.rows_per_s)}
        del runner
    log.info("re-measured batch 1 of %d variant(s) before refusing the online objective", len(names))
    return sorted(names)


def serving_config(choice: Recommendation) -> dict:
    """What the serving path needs: the online and batch variant (+ batch size), and a CPU fallback."""
    def pick(c: Choice | None) -> dict | None:
        return None if c is None else {"variant": c.variant, "batch_size": c.batch_size}

    fb = choice.cpu_fallback or choice
    return {"online": pick(choice.online), "batch": pick(choice.batch),
            "cpu_fallback": {"online": pick(fb.online), "batch": pick(fb.batch)},
            "reasons": {"online": choice.online_reason, "batch": choice.batch_reason}}


def write_outputs(result: BenchmarkResult, out_dir: Path) -> dict[str, Path]:
    """benchmark.json (the typed result), benchmark.csv (one row per variant and batch size) and plots."""
    from accelops.evaluation.plots import cost_vs_latency, latency_vs_batch

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "benchmark.json", "csv": out_dir / "benchmark.csv",
             "latency_png": out_dir / "latency_vs_batch.png", "cost_png": out_dir / "cost_vs_latency.png"}
    rows = [r.model_dump() for r in result.rows]
    paths["json"].write_text(result.model_dump_json(indent=2))
    with open(paths["csv"], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*COLUMNS, "pareto"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    latency_vs_batch(rows, paths["latency_png"])
    cost_vs_latency(rows, [i for i, r in enumerate(rows) if r["pareto"]], result.recommendation.model_dump(),
                    paths["cost_png"])
    return paths


def table(result: BenchmarkResult) -> str:
    """The variant table as fixed-width text (what `accelops bench` prints)."""
    head = f"{'variant':30} {'batch':>6} {'p50 ms':>9} {'p99 ms':>9} {'rows/s':>11} {'$/M':>9} {'AUC drop':>9} {'max dp':>8}"
    lines = [head, "-" * len(head)]
    for r in result.rows:
        lines.append(f"{r.variant:30} {r.batch_size:>6} {r.p50_ms:>9.4f} {r.p99_ms:>9.4f} {r.rows_per_s:>11.0f} "
                     f"{r.cost_per_million:>9.2e} {r.auc_drop:>9.5f} {r.max_prob_diff:>8.5f}")
    rec = result.recommendation
    lines += ["", f"online: {rec.online_reason}", f"batch:  {rec.batch_reason}"]
    if result.skipped:
        lines.append("skipped: " + "; ".join(f"{s['name']} ({s['reason']})" for s in result.skipped))
    return "\n".join(lines)


def _machine() -> dict:
    import torch

    info = {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
            "onnxruntime": metadata.version("onnxruntime"), "cuda": None}
    if torch.cuda.is_available():
        info["cuda"] = torch.cuda.get_device_name(0)
    return info
