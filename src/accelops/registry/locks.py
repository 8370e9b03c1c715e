"""A lock that spans hosts: a PostgreSQL session-level advisory lock on a name, held on its own
connection (freed by the server if the holder's process or host dies, since its connection drops)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from accelops.errors import RegistryError


@contextmanager
def advisory_lock(url: str, name: str, timeout_s: float = 120) -> Iterator[None]:
    """Hold `pg_advisory_lock(hashtextextended(name, 0))` for the block; waiting longer than `timeout_s`
    raises RegistryError naming the lock. `url` is a SQLAlchemy PostgreSQL URL."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"SET lock_timeout = '{int(timeout_s * 1000)}ms'"))
            try:
                conn.execute(sa.text("SELECT pg_advisory_lock(hashtextextended(:name, 0))"), {"name": name})
            except sa.exc.OperationalError as exc:
                raise RegistryError(f"lock {name!r} on {engine.url.render_as_string(hide_password=True)}: "
                                    f"still held by another process after {timeout_s:g} s") from exc
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))"), {"name": name})
    finally:
        engine.dispose()
