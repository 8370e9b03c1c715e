"""Two training flows and a monitoring flow started at the same moment against one tracking backend and
one feature registry, as real `accelops run` processes, then the invariants: every process exits 0, no
"database is locked" anywhere in their output or the workdirs' logs, exactly one @champion, a
consistent champion history (each event starts where the previous one ended, the last ends at
@champion, every promoted version has its event), every version decided, the landed file processed
once. On the embedded default (one workdir, SQLite) the trainings take turns on the workdir lock while
monitoring writes to the same SQLite store; on the server profile (two workdirs standing for two
hosts, PostgreSQL behind MLflow, Feast's registry and the ledger) they run truly at once and the
promotion lock is PostgreSQL's. Used by `accelops audit --concurrency` and
tests/reliability/test_concurrency.py (heavy)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from accelops.config import load_params
from accelops.pipeline.faults import Flow

LOCKED = "database is locked"


def land_batch(params, name: str = "concurrent.parquet", rows: int | None = None, seed: int = 77,
               after_days: int = 0) -> Path:
    """A batch of the demo's generator (monitor.batch_rows rows over monitor.batch_days days, the history's
    customers), starting `after_days` days after the history's last event, landed for monitoring."""
    import pandas as pd

    from accelops.data.generator import continuing_customers, generate

    g, m = params.generate, params.monitor
    rows = rows or m.batch_rows
    end = pd.read_parquet(params.layout.history)[params.dataset.timestamp].max()
    start = end + pd.Timedelta(seconds=1) + pd.Timedelta(days=after_days)
    params.landing.mkdir(parents=True, exist_ok=True)
    path = params.landing / name
    generate(rows, m.batch_days, start.isoformat(), seed=seed,
             customers=continuing_customers(rows, m.batch_days, g.rows, g.days)).frame.to_parquet(path)
    return path


def history_consistent(params) -> dict[str, Any]:
    """The champion history against the registry: a chain of events ending at @champion, one event per
    promotion, every version with a gate decision."""
    from accelops.pipeline.faults import registry_state
    from accelops.registry.history import for_params

    state = registry_state(params)
    events = for_params(params, state["client"]).events()
    chain = all(b.from_version == a.to_version for a, b in zip(events, events[1:]))
    promoted = sorted((v for v, info in state["versions"].items() if info["status"] == "PROMOTED"), key=int)
    moved_to = sorted({e.to_version for e in events if e.action == "promote"}, key=int)
    return {"champion": state["champion"], "events": len(events), "chain": chain,
            "last_event_is_champion": bool(events) and events[-1].to_version == state["champion"],
            "promoted_versions": promoted, "promotion_events_to": moved_to,
            "undecided": sorted((v for v, i in state["versions"].items() if not i["status"]), key=int),
            "versions": len(state["versions"]),
            "ok": bool(chain and events and events[-1].to_version == state["champion"] and promoted == moved_to
                       and all(i["status"] for i in state["versions"].values()))}


def concurrent_flows(training: Sequence[Path], monitoring: Path, logs: Path, timeout_s: float = 1500) -> dict[str, Any]:
    """Start `accelops run training` for each of `training` and `accelops run monitoring` on `monitoring`
    at once (a champion must exist and a batch must have landed for monitoring), wait for all, check."""
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    flows = [(f"training {i + 1}", path, Flow(path, logs / f"concurrent_training_{i + 1}.log"))
             for i, path in enumerate(training)]
    flows.append(("monitoring", monitoring, Flow(monitoring, logs / "concurrent_monitoring.log", flow="monitoring")))
    runs = []
    for name, path, flow in flows:
        code = flow.finish(timeout_s)
        workdir_logs = load_params(path).layout.workdir / "logs"
        locked_in_logs = [str(f) for f in workdir_logs.glob("*.log") if LOCKED in f.read_text(errors="replace")]
        runs.append({"flow": name, "exit_code": code, "locked": any(LOCKED in line for line in flow.lines),
                     "locked_in_logs": locked_in_logs,
                     "waited_for_lock": any("waiting up to" in line for line in flow.lines),
                     "outcome": next((line.split("gate: ", 1)[1].strip() for line in flow.lines if "gate: " in line),
                                     next((line.strip() for line in reversed(flow.lines) if line.strip()), ""))[:300]})
    params = load_params(monitoring)
    from accelops.pipeline.batch_stages import open_ledger

    ledger = open_ledger(params)
    files = [{"file": Path(f.path).name, "state": f.state, "attempts": f.attempts} for f in ledger.all()]
    history = history_consistent(params)
    ok = (all(r["exit_code"] == 0 and not r["locked"] and not r["locked_in_logs"] for r in runs) and history["ok"]
          and history["champion"] is not None and files and all(f["state"] == "done" for f in files))
    return {"flows": runs, "seconds": round(time.perf_counter() - started, 1), "landed": files, "history": history,
            "consistent": bool(ok)}


def embedded(params_path: Path, folder: Path, timeout_s: float = 1500) -> dict[str, Any]:
    """`concurrent_flows` on the embedded default: a scratch copy of the project (SQLite tracking store,
    SQLite Feast registry and ledger, one workdir), trained once, a batch landed, then two trainings and
    a monitoring run at once (demo contract: the batch comes from its generator)."""
    from accelops.pipeline.faults import scratch_project

    scratch = scratch_project(params_path, folder)
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if Flow(scratch, logs / "concurrent_clean.log").finish(timeout_s) != 0:
        raise RuntimeError(f"the first training run failed: see {logs / 'concurrent_clean.log'}")
    land_batch(load_params(scratch))
    return {"backend": "embedded (SQLite tracking, registry and ledger; one workdir)"} | \
        concurrent_flows([scratch, scratch], scratch, logs, timeout_s)
