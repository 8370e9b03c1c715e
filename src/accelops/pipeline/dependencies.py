"""Dependencies down, measured on a scratch copy of a project: the MLflow tracking server stopped in the
middle of a training run (briefly, and for good), and the artifact folder full.

Each scenario runs `accelops run training` as a real process and checks the same invariants as the
fault injection (accelops.pipeline.faults): the flow fails with a named error (exit 2, one line) or
rides the outage out, @champion does not move to an undecided version, no version is left without a
gate decision once the next run has recovered, and the next run, with the dependency back,
registers exactly one decided version. Used by `accelops audit --dependencies` and
tests/reliability/test_dependencies.py (heavy)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import yaml

from accelops.config import load_params, read_raw
from accelops.pipeline.faults import STAGES, Flow, registry_state, scratch_project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TrackingServer:
    """`mlflow server` on 127.0.0.1:`port` over a SQLite store and served artifacts in `folder`;
    stopped (its whole process group) and started again on the same port and store."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> float:
        from accelops.runtime import wait_healthy

        started = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "mlflow-server.log").open("a")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}",
             "--artifacts-destination", (self.folder / "artifacts").as_uri(), "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})
        log.close()
        wait_healthy(f"{self.url}/health", self.proc, timeout, self.folder / "mlflow-server.log")
        return round(time.perf_counter() - started, 1)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def _with(params_path: Path, **sections: dict) -> Path:
    raw = read_raw(params_path)
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    params_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return params_path


def _invariants(params, before: dict[str, Any]) -> dict[str, Any]:
    """@champion unchanged or moved to a decided version of this run; versions added; undecided ones."""
    after = registry_state(params)
    new = {v: info for v, info in after["versions"].items() if v not in before["versions"]}
    champion_ok = after["champion"] == before["champion"] or (
        after["champion"] in new and new[after["champion"]]["status"] == "PROMOTED")
    return {"champion_before": before["champion"], "champion_after": after["champion"], "champion_ok": champion_ok,
            "versions_added": sorted(new, key=int),
            "undecided": sorted((v for v, info in after["versions"].items() if not info["status"]), key=int)}


def _error_line(flow: Flow) -> str:
    return next((line.strip() for line in reversed(flow.lines) if line.startswith("error: ")), "")


def _stop_in(flow: Flow, server: TrackingServer, stage: str, timeout_s: float) -> str | None:
    """Stop the server as `stage` begins; the stage it was stopped in (None: the flow ended first)."""
    if not flow.wait_for(STAGES.index(stage), timeout_s):
        return None
    server.stop()
    return next((s for s in STAGES if s not in flow.done), "after the last stage")


def tracking_outage(params_path: Path, folder: Path, stage: str = "train", down_s: float = 5.0,
                    timeout_s: float = 900) -> dict[str, Any]:
    """Against a fresh tracking server: a clean run; then a run whose server is stopped as `stage` begins
    and started again `down_s` seconds later (the client's retries must ride it out: the run finishes with
    one decided version); then a run whose server stays down (it must fail with TrackingUnavailable naming
    the server, exit 2, @champion unchanged); then the server back and a run (it must close the failed
    run as FAILED and finish with one decided version)."""
    from accelops.registry import tracking

    scratch = scratch_project(params_path, folder)
    server = TrackingServer(folder / "tracking")
    out: dict[str, Any] = {"stage": stage, "server_start_s": server.start()}
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        _with(scratch, register={"tracking_uri": server.url})
        params = load_params(scratch)
        if Flow(scratch, logs / "tracking_clean.log").finish(timeout_s) != 0:
            raise RuntimeError(f"the clean run against {server.url} failed: see {logs / 'tracking_clean.log'}")

        before = registry_state(params)                         # 1. a short outage
        flow = Flow(scratch, logs / "tracking_short.log")
        stopped_in = _stop_in(flow, server, stage, timeout_s)
        started = time.perf_counter()
        if stopped_in is not None:
            time.sleep(down_s)
            server.start()
        down = round(time.perf_counter() - started, 1)         # stopped until it answered again
        code = flow.finish(timeout_s)
        state = _invariants(params, before)
        out["short"] = state | {"stopped_in": stopped_in, "down_s": down,
                                "exit_code": code, "survived": bool(
                                    stopped_in and code == 0 and state["champion_ok"] and not state["undecided"]
                                    and len(state["versions_added"]) == 1)}

        before = registry_state(params)                         # 2. the server stays down
        flow = Flow(scratch, logs / "tracking_long.log")
        stopped_in = _stop_in(flow, server, stage, timeout_s)
        started = time.perf_counter()
        code = flow.finish(timeout_s)
        failed_after = round(time.perf_counter() - started, 1)
        failed_run = tracking.active_run(params)                 # left open: closing needs the server
        server.start()
        state = _invariants(params, before)
        error = _error_line(flow)
        named = bool(stopped_in) and code == 2 and error.startswith("error: TrackingUnavailable: ") and server.url in error

        before = registry_state(params)                         # 3. back: the next run recovers and finishes
        rerun_code = Flow(scratch, logs / "tracking_rerun.log").finish(timeout_s)
        recovered = _invariants(params, before)
        failed_status = registry_state(params)["client"].get_run(failed_run).info.status if failed_run else None
        out["long"] = {"stopped_in": stopped_in, "exit_code": code, "failed_after_s": failed_after, "error": error,
                       "after_failure": state, "rerun_exit_code": rerun_code, "after_rerun": recovered,
                       "failed_run_status": failed_status,
                       "survived": bool(named and state["champion_ok"] and rerun_code == 0 and failed_status == "FAILED"
                                        and recovered["champion_ok"] and not recovered["undecided"]
                                        and len(recovered["versions_added"]) == 1)}
        out["survived"] = out["short"]["survived"] and out["long"]["survived"]
        return out
    finally:
        server.stop()


@contextlib.contextmanager
def small_disk(path: Path, megabytes: int) -> Iterator[bool]:
    """`path` as a tmpfs of `megabytes` MB, unmounted after; yields False (nothing mounted) without the
    right to mount (not root)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = bool(shutil.which("mount")) and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)], capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(path: Path, leave_bytes: int) -> Path:
    """A file that takes all but `leave_bytes` of the free space at `path`."""
    filler = path / "filler.bin"
    left = shutil.disk_usage(path).free - leave_bytes
    with filler.open("wb") as f:
        while left > 0:
            left -= f.write(b"\0" * min(left, 2**20))
    return filler


def artifacts_full(params_path: Path, folder: Path, megabytes: int = 64, timeout_s: float = 900) -> dict[str, Any]:
    """The MLflow artifact folder on a small disk (a tmpfs: needs root): a clean run, then the disk filled
    to 64 KB free and a training run (it must fail with StorageFull naming the path, exit 2, its MLflow run
    FAILED, @champion unchanged, no version left undecided), then the filler removed and the flow run
    again (it must finish with one decided version)."""
    scratch = scratch_project(params_path, folder)
    params = load_params(scratch)
    artifacts = params.layout.mlflow_artifacts
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with small_disk(artifacts, megabytes) as mounted:
        if not mounted:
            return {"survived": None, "detail": "not run: mounting a small tmpfs needs root"}
        out: dict[str, Any] = {"disk": f"tmpfs of {megabytes} MB", "path": str(artifacts)}
        clean = Flow(scratch, logs / "disk_clean.log")
        if clean.finish(timeout_s) != 0:
            raise RuntimeError(f"the clean run failed: see {logs / 'disk_clean.log'}")
        out["used_by_clean_run_mb"] = round((shutil.disk_usage(artifacts).used) / 2**20, 1)
        before = registry_state(params)
        filler = _fill(artifacts, 64 * 1024)
        out["free_bytes"] = shutil.disk_usage(artifacts).free
        flow = Flow(scratch, logs / "disk_full.log")
        code = flow.finish(timeout_s)
        out |= {"exit_code": code, "error": _error_line(flow),
                "failed_in": next((s for s in STAGES if s not in flow.done), "after the last stage")}
        state = _invariants(params, before)
        client = registry_state(params)["client"]
        experiment = client.get_experiment_by_name(params.register_.experiment).experiment_id
        run_status = client.search_runs([experiment], order_by=["attributes.start_time DESC"],
                                        max_results=1)[0].info.status
        filler.unlink()
        rerun_before = registry_state(params)
        rerun_code = Flow(scratch, logs / "disk_rerun.log").finish(timeout_s)
        recovered = _invariants(params, rerun_before)
        named = code == 2 and out["error"].startswith("error: StorageFull: ") and str(artifacts) in out["error"]
        return out | {"failed_run_status": run_status, "after_failure": state, "rerun_exit_code": rerun_code,
                      "after_rerun": recovered,
                      "survived": bool(named and state["champion_ok"] and not state["undecided"]
                                       and run_status == "FAILED" and rerun_code == 0 and recovered["champion_ok"]
                                       and not recovered["undecided"] and len(recovered["versions_added"]) == 1)}
