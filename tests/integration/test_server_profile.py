"""The server profile end to end: the training and monitoring flows as `accelops run` starts them,
against a Prefect server on PostgreSQL, an MLflow tracking server on PostgreSQL serving the
artifacts, Feast's SQL registry on PostgreSQL, the Redis online store and the ledger on PostgreSQL,
every one a real server on 127.0.0.1 (fresh databases, dropped afterwards)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from backends import mlflow_server, postgres_database, require_services
from helpers import SMALL, write_params
from prefect_server import prefect_server

pytestmark = pytest.mark.heavy


def _accelops(env: dict, *args: str) -> subprocess.CompletedProcess:
    res = subprocess.run([str(Path(sys.executable).parent / "accelops"), *args], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    return res


def test_training_and_monitoring_run_on_postgresql_mlflow_prefect_and_redis(tmp_path):
    require_services()
    import psycopg
    import redis
    from mlflow import MlflowClient

    from accelops.config import load_params

    project = f"srv_{uuid.uuid4().hex[:8]}"
    with postgres_database("mlflow") as mlflow_db, postgres_database("prefect") as prefect_db, \
            postgres_database("feast") as feast_db, postgres_database("ledger") as ledger_db, \
            mlflow_server(mlflow_db, tmp_path / "mlflow" / "artifacts") as tracking, \
            prefect_server(tmp_path / "prefect", database_url=prefect_db.replace("+psycopg", "+asyncpg")) as env:
        path = write_params(tmp_path / "project", profile="server", register={"tracking_uri": tracking},
                            features={"project": project, "registry": feast_db, "online_store": "redis"},
                            monitor={**SMALL["monitor"], "ledger_url": ledger_db, "batch_rows": 2000})
        params = load_params(path)
        env = {**env, "ACCELOPS_PARAMS": str(path)}
        _accelops(env, "stage", "generate")
        trained = json.loads(_accelops(env, "run", "training", "--json").stdout)
        assert trained["register"]["status"] == "PROMOTED", trained["register"]["reason"]

        client = MlflowClient(tracking)                             # the tracking server has the run and the model
        champion = client.get_model_version_by_alias(params.register_.model_name, "champion")
        assert champion.version == trained["register"]["version"]
        run = client.get_run(champion.run_id)
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")   # served by the server, not a local path
        assert any((tmp_path / "mlflow" / "artifacts").rglob("MLmodel"))
        with psycopg.connect(mlflow_db.replace("+psycopg", "")) as conn:
            assert conn.execute("select count(*) from model_versions").fetchone()[0] >= 1
        with psycopg.connect(feast_db.replace("+psycopg", "")) as conn:         # Feast's SQL registry
            views = conn.execute("select feature_view_name from feature_views where project_id = %s",
                                 (project,)).fetchall()
        assert {v[0] for v in views} == set(params.features.views)
        r = redis.Redis(host="127.0.0.1", port=6379)
        assert any(project.encode() in key for key in r.scan_iter(count=1000))      # the online rows

        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}), get_client(sync_client=True) as api:
            runs = api.read_flow_runs()
        assert [(r.name is not None, r.state.type.value) for r in runs] == [(True, "COMPLETED")]

        import pandas as pd

        from accelops.data.generator import continuing_customers, generate

        g, m = params.generate, params.monitor
        end = pd.read_parquet(params.layout.history)[params.dataset.timestamp].max()
        params.landing.mkdir(parents=True)
        generate(m.batch_rows, m.batch_days, (end + pd.Timedelta(seconds=1)).isoformat(), seed=g.seed + 1,
                 customers=continuing_customers(m.batch_rows, m.batch_days, g.rows, g.days)).frame.to_parquet(
            params.landing / "day1.parquet")
        res = _accelops(env, "run", "monitoring", "--json")
        monitored = json.loads(res.stdout)
        assert [f["state"] for f in monitored["landed"]] == ["done"], res.stderr[-3000:]
        with psycopg.connect(ledger_db.replace("+psycopg", "")) as conn:        # the intake ledger
            tables = {t[0] for t in conn.execute("select tablename from pg_tables where schemaname = 'public'")}
            assert tables, "the ledger created no table"
        from accelops.features.store import open_store

        open_store(params).teardown()                                # the online rows leave Redis
        assert not any(project.encode() in key for key in r.scan_iter(count=1000))
