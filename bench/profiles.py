"""The server profile's cost: the training flow's stage times on the embedded backends against the
same flow on PostgreSQL-backed MLflow (a tracking server serving artifacts), Prefect and Feast
registry, and Redis, all on 127.0.0.1, on the same generated data.

    python bench/profiles.py [--rows N]

Needs PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379). Each profile runs the
training flow twice in a fresh process (`accelops run training --json`); the second run is reported
(the first pays imports and caches). Prints the stage x profile table and, last, one JSON line;
also writes bench/results/profiles.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _results import emit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]


def _run(env: dict) -> tuple[float, dict]:
    t = time.perf_counter()
    res = subprocess.run([str(Path(sys.executable).parent / "accelops"), "run", "training", "--json"],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=1800)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    return time.perf_counter() - t, json.loads(res.stdout)["timings"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    from backends import mlflow_server, postgres_database
    from helpers import SMALL, write_params
    from prefect_server import prefect_server

    tmp = Path(tempfile.mkdtemp(prefix="accelops-profiles-"))
    size = {"generate": {**SMALL["generate"], "rows": args.rows}}
    local = write_params(tmp / "local", **size)
    subprocess.run([str(Path(sys.executable).parent / "accelops"), "stage", "generate"], check=True,
                   env={**os.environ, "ACCELOPS_PARAMS": str(local)}, capture_output=True)
    history = str(tmp / "local" / "history.parquet")
    runs = {}
    first_local = _run({"ACCELOPS_PARAMS": str(local)})
    runs["local"] = _run({"ACCELOPS_PARAMS": str(local)})
    project = f"bench_{uuid.uuid4().hex[:8]}"
    with postgres_database("mlflow") as mlflow_db, postgres_database("prefect") as prefect_db, \
            postgres_database("feast") as feast_db, postgres_database("ledger") as ledger_db, \
            mlflow_server(mlflow_db, tmp / "mlflow" / "artifacts") as tracking, \
            prefect_server(tmp / "prefect", database_url=prefect_db.replace("+psycopg", "+asyncpg")) as env:
        server = write_params(tmp / "server", **size, profile="server", register={"tracking_uri": tracking},
                              features={"project": project, "registry": feast_db, "online_store": "redis"},
                              monitor={**SMALL["monitor"], "ledger_url": ledger_db})
        server.write_text(server.read_text().replace(str(tmp / "server" / "history.parquet"), history))
        env = {**env, "ACCELOPS_PARAMS": str(server)}
        first_server = _run(env)
        runs["server"] = _run(env)
        from accelops.config import load_params
        from accelops.features.store import open_store

        open_store(load_params(server)).teardown()
    print(f"\n{'stage':<12} {'local s':>9} {'server s':>9}")
    for stage in runs["local"][1]:
        print(f"{stage:<12} {runs['local'][1][stage]:>9.2f} {runs['server'][1][stage]:>9.2f}")
    print(f"{'process':<12} {runs['local'][0]:>9.2f} {runs['server'][0]:>9.2f}   (accelops run training, wall)")
    ratio = runs["server"][0] / runs["local"][0]
    emit("profiles", {"bench": "profiles", "rows": args.rows,
                      "baseline": {"what": "profile local: SQLite MLflow, Feast file registry, SQLite online store, "
                                           "ephemeral Prefect", "seconds": round(runs["local"][0], 2),
                                   "stages": runs["local"][1], "first_run_seconds": round(first_local[0], 2)},
                      "figures": {"server_seconds": round(runs["server"][0], 2), "server_stages": runs["server"][1],
                                  "server_first_run_seconds": round(first_server[0], 2)},
                      "ratio": round(ratio, 3), "target": "reported (no target: the server profile's cost)",
                      "meets_target": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
