"""Fault injection: the training flow SIGKILLed inside each stage in turn, as a real process
(`accelops run training`), then the invariants checked and the flow run again to a clean finish.

A clean run first measures each stage's duration; each fault kills the flow's whole process group
halfway through one stage (by the stage lines the flow prints). After each kill: @champion moved only
to a version with a full gate decision (only possible once `register` had decided), no version
without a decision, no second version for one run. Then what the next flow does before its first stage
(`recovery.recover_interrupted`) runs, and the killed MLflow run must read FAILED. The last flow must
finish cleanly and register exactly one decided version. Used by `accelops audit --faults` and
tests/reliability/test_faults.py (heavy)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from accelops.config import load_params

STAGES = ("reference", "validate", "features", "train", "evaluate", "benchmark", "register", "materialize")
STAGE_LINE = re.compile(r"\[(\d+)/\d+\]\s+(\w+)\s+([\d.]+) s")
STARTED = re.compile(r"^(\S+ )?training \S+ on ")


def _accelops() -> str:
    return str(Path(sys.executable).with_name("accelops"))


class Flow:
    """`accelops run FLOW` in its own process group; its output lines collected as they come."""

    def __init__(self, params_path: Path, log: Path, flow: str = "training"):
        self.log = log.open("a")
        self.proc = subprocess.Popen([_accelops(), "run", flow, "--params", str(params_path)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True, env=os.environ.copy())
        self.lines: list[str] = []
        self.done: dict[str, float] = {}            # stage -> seconds, from the flow's stage lines
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self.log.write(line)
            if STARTED.search(line):
                self.started.set()
            if m := STAGE_LINE.search(line):
                self.done[m.group(2)] = float(m.group(3))

    def wait_for(self, stage_index: int, timeout: float) -> bool:
        """Until the stage before `stage_index` has finished (or the flow has started, for the first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if (self.started.is_set() if stage_index == 0 else STAGES[stage_index - 1] in self.done):
                return True
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        self.log.close()

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        self.log.close()
        return code


def registry_state(params) -> dict[str, Any]:
    from accelops.registry import tracking
    from accelops.registry.history import for_params

    client = tracking.connect(params)
    name = params.register_.model_name
    versions = {str(v.version): {"run_id": v.run_id, "status": v.tags.get("gate.status")}
                for v in client.search_model_versions(f"name = '{name}'")}
    return {"versions": versions, "champion": for_params(params, client).current(), "client": client}


def _run_status(client, run_id: str | None) -> str | None:
    return client.get_run(run_id).info.status if run_id else None


def scratch_project(params_path: Path, folder: Path) -> Path:
    """A copy of `params_path` whose state lives in `folder` (an embedded tracking store, local backends)
    and whose data paths point at the original files, read only: faults never touch the real workdir."""
    import yaml

    from accelops.config import read_raw

    params = load_params(params_path)
    raw = read_raw(Path(params_path))
    lay = params.layout
    raw["paths"] = {**raw.get("paths", {}), "workdir": str(folder / "work"), "history": str(lay.history),
                    "feature_repo": str(lay.feature_repo)}
    if params.paths.reference:
        raw["paths"]["reference"] = str(lay.reference_data)
    raw["profile"] = "local"
    raw.get("register", {}).pop("tracking_uri", None)
    if not lay.history.exists():
        raise FileNotFoundError(f"{lay.history}: no training data to inject faults into (paths.history; "
                                "`accelops data generate` or `make run` writes the demo's)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def inject(params_path: Path, stages: Sequence[str] = STAGES, out_dir: Path | None = None,
           timeout_s: float = 900) -> dict[str, Any]:
    """Kill the training flow inside each of `stages`, check, recover, check; then a clean run."""
    from accelops.pipeline.recovery import recover_interrupted
    from accelops.registry import tracking

    params = load_params(params_path)
    out_dir = out_dir or params.layout.reports / "faults"
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = Flow(params_path, out_dir / "clean.log")
    if clean.finish(timeout_s) != 0:
        raise RuntimeError(f"the clean training run failed: see {out_dir / 'clean.log'}")
    timings = dict(clean.done)
    faults = []
    for stage in stages:
        before = registry_state(params)
        index = STAGES.index(stage)
        flow = Flow(params_path, out_dir / f"kill_{stage}.log")
        if not flow.wait_for(index, timeout_s):
            flow.finish(timeout_s)
            faults.append({"stage": stage, "killed": False, "survived": False,
                           "detail": "the flow ended before the stage began"})
            continue
        delay = timings.get(stage, 1.0) / 2
        time.sleep(delay)
        landed = next((s for s in STAGES if s not in flow.done), "after the last stage")
        flow.kill()
        run_id = tracking.active_run(params)
        killed = registry_state(params)
        new = {v: info for v, info in killed["versions"].items() if v not in before["versions"]}
        champion_ok = killed["champion"] == before["champion"] or (
            killed["champion"] in new and new[killed["champion"]]["status"] == "PROMOTED")
        status_killed = _run_status(killed["client"], run_id)
        repairs = recover_interrupted(params)
        after = registry_state(params)
        left = {v: info for v, info in after["versions"].items() if v not in before["versions"]}
        undecided = [v for v, info in after["versions"].items() if not info["status"]]
        status_after = _run_status(after["client"], run_id)
        # no run left RUNNING: FAILED by the recovery, or FINISHED by the flow itself just before the signal
        # landed; no run at all when the kill came before the flow opened one
        survived = bool(champion_ok and len(left) <= 1 and not undecided and not params.layout.active_run.exists()
                        and status_after != "RUNNING")
        if run_id is None:
            landed = "after the flow closed its run" if landed == "after the last stage" else \
                "before the flow opened its run"
        faults.append({"stage": stage, "killed": True, "landed_in": landed, "after_s": round(delay, 2),
                       "run_status_killed": status_killed, "run_status_recovered": status_after,
                       "champion_before": before["champion"], "champion_after": after["champion"],
                       "versions_added": sorted(left, key=int), "undecided_versions": undecided,
                       "repairs": repairs, "survived": survived})
    before = registry_state(params)
    final = Flow(params_path, out_dir / "final.log")
    code = final.finish(timeout_s)
    after = registry_state(params)
    added = {v: info for v, info in after["versions"].items() if v not in before["versions"]}
    final_ok = code == 0 and len(added) == 1 and all(info["status"] for info in added.values())
    return {"stage_seconds": timings, "faults": faults, "injected": sum(f["killed"] for f in faults),
            "survived": sum(f["survived"] for f in faults), "final_run": {"exit_code": code, "ok": final_ok,
                                                                           "versions_added": sorted(added, key=int)},
            "logs": str(out_dir)}


def inject_monitoring(params_path: Path, batches: Sequence[Path], out_dir: Path | None = None,
                      timeout_s: float = 900) -> dict[str, Any]:
    """The monitoring flow over `batches` (already landed, not yet processed) SIGKILLed a second after the
    first file's prediction log is written (mid-file: its drift check, MLflow window and ledger update
    still to come, or the next file begun), then run again. Every file must end processed
    exactly once: `done` in the ledger, one window per file content, one prediction log per file with
    exactly its rows, and no claim left behind."""
    from accelops.pipeline.batch_stages import open_ledger

    params = load_params(params_path)
    lay = params.layout
    out_dir = out_dir or lay.reports / "faults"
    out_dir.mkdir(parents=True, exist_ok=True)
    flow = Flow(params_path, out_dir / "kill_monitoring.log", flow="monitoring")
    deadline = time.monotonic() + timeout_s
    while not lay.prediction_log(batches[0]).exists() and flow.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = flow.proc.poll() is None
    if killed:
        time.sleep(1.0)                                 # past the prediction log, before the file is done
        flow.kill()
    else:
        flow.finish(timeout_s)
    at_kill = {Path(f.path).name: f.state for f in open_ledger(params).all()}
    code = Flow(params_path, out_dir / "rerun_monitoring.log", flow="monitoring").finish(timeout_s)
    import pandas as pd

    ledger = open_ledger(params)
    files = {Path(f.path).name: f for f in ledger.all()}
    windows = [w.key for w in ledger.windows()]
    per_file = []
    for batch in batches:
        f = files.get(batch.name)
        logged = lay.prediction_log(batch)
        rows_in, rows_logged = len(pd.read_parquet(batch)), len(pd.read_parquet(logged)) if logged.exists() else 0
        per_file.append({"file": batch.name, "state": f.state if f else None, "attempts": f.attempts if f else 0,
                         "windows": windows.count(f.sha256) if f else 0, "rows": rows_in, "rows_logged": rows_logged,
                         "ok": bool(f and f.state == "done" and windows.count(f.sha256) == 1 and rows_in == rows_logged)})
    return {"killed": killed, "states_at_kill": at_kill, "rerun_exit_code": code, "files": per_file,
            "claims_left": sum(f.state == "claimed" for f in files.values()),
            "survived": bool(killed and code == 0 and all(p["ok"] for p in per_file)
                             and not any(f.state == "claimed" for f in files.values()))}
