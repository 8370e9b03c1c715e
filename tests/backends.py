"""The server profile's backends for a test: a fresh PostgreSQL database (dropped afterwards), an
MLflow tracking server on it with served artifacts, and the machine's Redis, all on 127.0.0.1. On a
laptop without PostgreSQL or Redis the tests that need them skip; under CI (CI=true) they fail."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from accelops.runtime import wait_healthy
from prefect_server import free_port, stop

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = ("127.0.0.1", 6379)


def reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


def require_services() -> None:
    """Skip without PostgreSQL (5432) and Redis (6379) on 127.0.0.1; under CI, fail instead."""
    missing = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379)) if not reachable("127.0.0.1", port)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must reach {', '.join(missing)} on 127.0.0.1")
        pytest.skip(f"{', '.join(missing)} not running on 127.0.0.1")


@contextlib.contextmanager
def postgres_database(prefix: str = "accelops"):
    """A new database, dropped (its connections ended) when the test leaves; yields its psycopg URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def mlflow_server(backend_url: str, artifacts: Path, startup_timeout: float = 120):
    """`mlflow server` on 127.0.0.1 (a free port) with `backend_url` as its store and the artifacts it
    serves under `artifacts`; yields its tracking URL; stopped with its process group (workers too)."""
    artifacts.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(artifacts.parent / "mlflow-server.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", backend_url, "--artifacts-destination", artifacts.as_uri(), "--workers", "1"],
        env={**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        wait_healthy(f"{url}/health", server, startup_timeout, artifacts.parent / "mlflow-server.log")
        yield url
    finally:
        stop(server)
        log.close()
