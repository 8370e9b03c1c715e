"""From a file landing to the gate's decision on a retrained model, with the scheduler alone:
`accelops serve` (its own Prefect server), a project with a champion, then a drifted, labelled file
dropped into the landing folder; nobody triggers anything. Measures the seconds until the retrained
version is decided (promoted or rejected), and where they went.

    python bench/landing_to_champion.py [--rows N] [--interval-s S] [--scenario S] [--screenshots DIR]

--screenshots DIR: once the version is decided, headless Chromium photographs the Prefect and MLflow
UIs over this project (bench/_screens.py; `make screenshots` installs Chromium and Playwright and
writes docs/screenshots/).

The monitoring deployment runs every --interval-s seconds (monitor.schedule_minutes); the retraining
policy retrains on one drifted window (k=1 of n=1, no cooldown). Prints the timeline and, last, one
JSON line; also writes bench/results/landing_to_champion.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _results import emit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]
BIN = Path(sys.executable).parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--interval-s", type=float, default=30)
    ap.add_argument("--scenario", default="concept_drift")
    ap.add_argument("--severity", type=float, default=1.0, help="the scenario's strength in the landed file")
    ap.add_argument("--batch-share", type=float, default=0.25, help="the landed file's rows, a share of --rows")
    ap.add_argument("--timeout-s", type=float, default=900)
    ap.add_argument("--screenshots", type=Path, default=None, help="photograph the UIs into this folder")
    args = ap.parse_args()
    from helpers import SMALL, write_params
    from prefect_server import free_port

    tmp = Path(tempfile.mkdtemp(prefix="accelops-landing-"))
    port = free_port()
    path = write_params(tmp / "project", generate={**SMALL["generate"], "rows": args.rows},
                        monitor={**SMALL["monitor"], "batch_rows": int(args.rows * args.batch_share),
                                 "schedule_minutes": args.interval_s / 60,
                                 "policy": {"k": 1, "n": 1, "cooldown_hours": 0, "min_new_labels": 0}},
                        serve={"port": port})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}, "ACCELOPS_PARAMS": str(path)}
    subprocess.run([str(BIN / "accelops"), "stage", "generate"], env=env, check=True, capture_output=True)
    subprocess.run([str(BIN / "accelops"), "run", "training"], env=env, check=True, capture_output=True)
    from accelops.config import load_params
    from accelops.data.generator import continuing_customers, generate
    from accelops.registry.status import collect

    import pandas as pd

    params = load_params(path)
    first = collect(params)["champion"]["version"]
    log = open(tmp / "serve.log", "w")
    served = subprocess.Popen([str(BIN / "accelops"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    timeline: dict[str, float] = {}
    try:
        time.sleep(20)                                     # the server and the deployments come up
        g, m = params.generate, params.monitor
        end = pd.read_parquet(params.layout.history)[params.dataset.timestamp].max() + pd.Timedelta(seconds=1)
        frame = generate(m.batch_rows, m.batch_days, end.isoformat(), seed=g.seed + 7, scenario=args.scenario,
                         severity=args.severity, customers=continuing_customers(m.batch_rows, m.batch_days, g.rows, g.days)).frame
        params.landing.mkdir(parents=True, exist_ok=True)
        tmp_file = params.landing / "drifted.parquet.tmp"
        frame.to_parquet(tmp_file)
        landed = time.time()
        tmp_file.replace(params.landing / "drifted.parquet")      # written, then renamed: it lands at once
        decided = None                                     # the gate's first decision on a retrained version
        while decided is None and time.time() - landed < args.timeout_s:
            time.sleep(2)
            facts = collect(params)
            decided = next((v for v in facts["versions"] if v["version"] > first and v["gate_decision"]), None)
        timeline["decided_after_s"] = round(time.time() - landed, 1) if decided else None
        timeline["decision"] = decided["gate_decision"] if decided else None
        timeline["decision_reason"] = (decided or {}).get("gate_reason")
        promoted = decided is not None and decided["gate_decision"] == "promoted"
        timeline["promoted_after_s"] = timeline["decided_after_s"] if promoted else None
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}), \
                get_client(sync_client=True) as client:
            runs = sorted(client.read_flow_runs(), key=lambda r: r.start_time or r.expected_start_time)
        runs_after = [r for r in runs if r.start_time and r.start_time.timestamp() >= landed]
        for r in runs_after:                               # the timeline: which run did what, when
            print(f"+{r.start_time.timestamp() - landed:6.1f} s  {r.name:<26} {r.state_type.value:<10} "
                  f"{(r.end_time.timestamp() - r.start_time.timestamp()) if r.end_time else float('nan'):6.1f} s  "
                  f"{(r.state.message or '')[:110]}")
        timeline["first_run_started_after_s"] = round(min(r.start_time.timestamp() for r in runs_after) - landed, 1) \
            if runs_after else None
        timeline["flow_runs_after_landing"] = len(runs_after)
        if args.screenshots is not None:
            from _screens import take

            time.sleep(5)                                  # the last run's artifacts and state are written
            timeline["screenshots"] = take(args.screenshots, f"http://127.0.0.1:{port}", BIN, env, params, free_port())
    finally:
        served.terminate()
        try:
            served.wait(120)
        except subprocess.TimeoutExpired:
            served.kill()
        log.close()
    status = collect(params)
    emit("landing_to_champion", {"bench": "landing_to_champion", "rows": args.rows, "interval_s": args.interval_s,
                                 "scenario": args.scenario, "severity": args.severity,
                                 "batch_rows": params.monitor.batch_rows, "baseline": {"what": "champion before the file landed",
                                                                         "version": first},
                                 "figures": timeline | {"champion_after": status["champion"]["version"]},
                                 "target": "reported (#15 must-show): seconds from landing to a decided version",
                                 "meets_target": timeline.get("decided_after_s") is not None})
    print(json.dumps([{k: v for k, v in ver.items() if k in ("version", "gate_decision", "gate_reason")}
                      for ver in status["versions"]], default=str)[:2000], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
