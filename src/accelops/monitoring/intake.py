"""Intake of the files that land in `monitor.landing`: every file is processed exactly once; and the
drift windows the retraining policy counts (one per file content, so a reprocessed file is one window).

A ledger (SQLAlchemy: a SQLite file in the workdir by default, any database URL in production)
holds one row per file content (its SHA-256), so a file copied in again under another name is a
duplicate, not new data. Processing a file is claimed by one atomic UPDATE, so two overlapping runs
never both take it. A claim whose owner died (a process of this host that is gone) or whose lease
ran out is taken over, which reprocesses a file after a crash; after `max_attempts` claims the file
is quarantined instead of retried forever. A file the pipeline rejects (bad data, PII) is
quarantined at once with the reason; the file is copied beside its report, the landing folder is
never modified. Files modified in the last `settle_seconds` are left for the next run (a writer may
still be copying them).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from glob import glob
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from accelops.hashing import file_sha256
from accelops.monitoring.policy import Window

State = Literal["new", "claimed", "done", "quarantined"]
SUFFIXES = (".parquet", ".csv")


class IntakeFile(BaseModel):
    """One landed file as the ledger knows it."""
    sha256: str
    path: str
    size: int
    state: State
    attempts: int
    owner: str | None = None
    claimed_at: str | None = None
    finished_at: str | None = None
    outcome: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def owner_id() -> str:
    """host:pid:random, so a claim names the process that holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone (unknown hosts: alive)."""
    host, _, rest = owner.partition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(rest.split(":")[0]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def landed(landing: str) -> list[Path]:
    """Parquet and CSV files under `landing` (a folder, or a glob pattern), oldest first."""
    pattern = str(Path(landing) / "*") if Path(landing).is_dir() else landing
    files = [Path(p) for p in glob(pattern) if Path(p).is_file() and Path(p).suffix.lower() in SUFFIXES]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


class Ledger:
    """The intake ledger at a SQLAlchemy URL (tables are created on first use)."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        self.url = url
        self.engine = sa.create_engine(url, future=True)
        meta = sa.MetaData()
        self.files = sa.Table(
            "accelops_intake", meta,
            sa.Column("sha256", sa.String(64), primary_key=True),
            sa.Column("path", sa.Text, nullable=False),
            sa.Column("size", sa.BigInteger, nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False, default=0),
            sa.Column("owner", sa.String(200)),
            sa.Column("claimed_at", sa.DateTime(timezone=True)),
            sa.Column("finished_at", sa.DateTime(timezone=True)),
            sa.Column("outcome", sa.Text),
            sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False))
        self.windows_table = sa.Table(
            "accelops_drift_windows", meta,
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("batch", sa.Text, nullable=False),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("drift_share", sa.Float, nullable=False),
            sa.Column("drifted", sa.Boolean, nullable=False),
            sa.Column("triggered", sa.Boolean, nullable=False),
            sa.Column("champion", sa.String(64)),
            sa.Column("labelled", sa.BigInteger))
        meta.create_all(self.engine)
        self._add_missing_columns(self.windows_table)

    def _add_missing_columns(self, table) -> None:
        """Columns added since a ledger was created (nullable ones only), so an older ledger keeps working."""
        import sqlalchemy as sa

        present = {c["name"] for c in sa.inspect(self.engine).get_columns(table.name)}
        with self.engine.begin() as conn:
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=self.engine.dialect)
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")

    @classmethod
    def for_path(cls, path: Path) -> "Ledger":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        ledger = cls(f"sqlite:///{Path(path).resolve()}")
        with ledger.engine.begin() as conn:          # concurrent readers and one writer without "locked" errors
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return ledger

    def register(self, landing: str, settle_seconds: float = 5.0) -> list[IntakeFile]:
        """Record every settled file whose content was not seen before (a copy of known content under
        another name is skipped: the ledger keys on the SHA-256). Returns the files this call added."""
        import sqlalchemy as sa
        from sqlalchemy.exc import IntegrityError

        added = []
        for path in landed(landing):
            stat = path.stat()
            if time.time() - stat.st_mtime < settle_seconds:
                continue
            sha = file_sha256(path)
            with self.engine.connect() as conn:
                if conn.execute(sa.select(self.files.c.sha256).where(self.files.c.sha256 == sha)).first():
                    continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(self.files.insert(), dict(sha256=sha, path=str(path.resolve()), size=stat.st_size,
                                                           state="new", attempts=0, seen_at=_now()))
            except IntegrityError:          # another run registered it first
                continue
            added.append(self.get(sha))
        return added

    def get(self, sha256: str) -> IntakeFile:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.files).where(self.files.c.sha256 == sha256)).mappings().one()
        return _as_file(row)

    def all(self) -> list[IntakeFile]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.files).order_by(self.files.c.seen_at)).mappings().all()
        return [_as_file(r) for r in rows]

    def claim_next(self, owner: str, lease: timedelta, max_attempts: int) -> IntakeFile | None:
        """Claim the oldest file that is new or whose claim is stale (dead owner, lease over); a stale
        file already claimed `max_attempts` times is quarantined instead. None when nothing is left."""
        for f in self.all():
            if f.state == "claimed" and not self._stale(f, lease):
                continue
            if f.state not in ("new", "claimed"):
                continue
            if f.attempts >= max_attempts:
                self._finish(f, "quarantined", f"claimed {f.attempts} times without finishing (crashed?): "
                                               "quarantined instead of retried", expect_owner=f.owner)
                continue
            if self._claim(f, owner):
                return self.get(f.sha256)
        return None

    def _stale(self, f: IntakeFile, lease: timedelta) -> bool:
        claimed = datetime.fromisoformat(f.claimed_at) if f.claimed_at else None
        return (f.owner is None or not _owner_alive(f.owner)
                or claimed is None or _now() - _aware(claimed) > lease)

    def _claim(self, f: IntakeFile, owner: str) -> bool:
        """Compare-and-set on (state, owner): exactly one of several racing claimers wins."""
        import sqlalchemy as sa

        t = self.files
        cond = (t.c.sha256 == f.sha256) & (t.c.state == f.state) & (t.c.attempts == f.attempts)
        cond &= t.c.owner.is_(None) if f.owner is None else (t.c.owner == f.owner)
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(t).where(cond).values(state="claimed", owner=owner, claimed_at=_now(),
                                                                attempts=f.attempts + 1))
        return done.rowcount == 1

    def finish(self, sha256: str, owner: str, state: Literal["done", "quarantined"], outcome: str) -> bool:
        """Close `owner`'s claim; False when the claim was taken over meanwhile (the other owner finishes)."""
        return self._finish(self.get(sha256), state, outcome, expect_owner=owner)

    def _finish(self, f: IntakeFile, state: str, outcome: str, expect_owner: str | None) -> bool:
        import sqlalchemy as sa

        t = self.files
        cond = (t.c.sha256 == f.sha256) & (t.c.state.in_(["new", "claimed"]))
        cond &= t.c.owner.is_(None) if expect_owner is None else (t.c.owner == expect_owner)
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(t).where(cond).values(state=state, finished_at=_now(), outcome=outcome[:4000]))
        return done.rowcount == 1

    def release(self, sha256: str, owner: str, error: str) -> None:
        """Give a claim back after an error worth retrying (the next run takes the file again, up to
        max_attempts claims in all)."""
        import sqlalchemy as sa

        t = self.files
        with self.engine.begin() as conn:
            conn.execute(sa.update(t).where((t.c.sha256 == sha256) & (t.c.owner == owner) & (t.c.state == "claimed"))
                         .values(state="new", owner=None, outcome=f"released after error: {error}"[:4000]))


    def record_window(self, window: Window) -> None:
        """Insert or replace the window of `window.key` (a reprocessed file replaces its own window)."""
        import sqlalchemy as sa

        t = self.windows_table
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.key == window.key))
            conn.execute(t.insert(), window.model_dump())

    def windows(self) -> list[Window]:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.windows_table).order_by(self.windows_table.c.decided_at)).mappings().all()
        return [Window(**{**r, "decided_at": _aware(r["decided_at"])}) for r in rows]


def quarantine_file(f: IntakeFile, reason: str, folder: Path, report: Path | None = None) -> Path:
    """Copy a rejected landed file into `folder` with a JSON note (and its validation report, when there
    is one); returns the copy's folder."""
    target = Path(folder) / f"{Path(f.path).stem}-{f.sha256[:12]}"
    target.mkdir(parents=True, exist_ok=True)
    if Path(f.path).exists():
        shutil.copy2(f.path, target / Path(f.path).name)
    if report is not None and Path(report).exists():
        shutil.copy2(report, target / Path(report).name)
    (target / "rejected.json").write_text(json.dumps({"file": f.path, "sha256": f.sha256, "reason": reason,
                                                      "at": _now().isoformat()}, indent=2))
    return target


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _as_file(row) -> IntakeFile:
    def iso(v):
        return None if v is None else _aware(v).isoformat()

    return IntakeFile(sha256=row["sha256"], path=row["path"], size=row["size"], state=row["state"],
                      attempts=row["attempts"], owner=row["owner"], claimed_at=iso(row["claimed_at"]),
                      finished_at=iso(row["finished_at"]), outcome=row["outcome"])
