"""What a stage really touches: the files it reads and writes (Linux inotify, so reads by C++ code
such as pyarrow count too) and the params keys it reads (a recording proxy over Params), compared
with its declaration in accelops.pipeline.catalogue.STAGE_IO."""

from __future__ import annotations

import ctypes
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_MOVED_TO, IN_CREATE = 0x08, 0x10, 0x80, 0x100
IN_Q_OVERFLOW, IN_ISDIR = 0x4000, 0x40000000
_EVENT = struct.Struct("iIII")
IGNORED_PARTS = {"__pycache__"}          # bytecode caches written by imports


class FileTracer:
    """Watches every folder under `roots` (re-scanned by `start`); `stop` returns (read, written)."""

    def __init__(self, roots: list[Path]):
        self.roots = [Path(r).resolve() for r in roots]
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, "inotify_init1 failed"
        self.watches: dict[int, Path] = {}
        self.before: dict[Path, tuple[int, int]] = {}

    def _files(self) -> dict[Path, tuple[int, int]]:
        out = {}
        for root in self.roots:
            for dirpath, _, names in os.walk(root):
                for n in names:
                    p = Path(dirpath) / n
                    try:
                        st = p.stat()
                    except FileNotFoundError:
                        continue
                    out[p] = (st.st_mtime_ns, st.st_size)
        return out

    def start(self) -> None:
        mask = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_MOVED_TO | IN_CREATE
        for root in self.roots:
            for dirpath, _, _ in os.walk(root):
                wd = self.libc.inotify_add_watch(self.fd, dirpath.encode(), mask)
                if wd >= 0:
                    self.watches[wd] = Path(dirpath)
        self._drain()
        self.before = self._files()

    def _drain(self) -> list[tuple[int, Path]]:
        events, buf = [], b""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            buf += chunk
        i = 0
        while i < len(buf):
            wd, mask, _, length = _EVENT.unpack_from(buf, i)
            name = buf[i + _EVENT.size:i + _EVENT.size + length].rstrip(b"\0").decode()
            i += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                raise RuntimeError("inotify queue overflowed: the trace is incomplete")
            if mask & IN_ISDIR or wd not in self.watches:
                continue
            events.append((mask, self.watches[wd] / name))
        return events

    def stop(self) -> tuple[set[Path], set[Path]]:
        read, written = set(), set()
        for mask, path in self._drain():
            if IGNORED_PARTS & set(path.parts):
                continue
            (written if mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) else read).add(path)
        after = self._files()
        written |= {p for p, sig in after.items() if self.before.get(p) != sig and not IGNORED_PARTS & set(p.parts)}
        return read - written, written

    def close(self) -> None:
        os.close(self.fd)


class ParamsRecorder:
    """Stands in for Params (or one of its sections) and records every key read, as "section.key".
    A section's model_dump / model_copy or a method call counts as reading the whole section; the
    top level's model_dump (whole-params hashing and MLflow's params log) is not a read of any key."""

    __slots__ = ("_obj", "_prefix", "_seen")

    def __init__(self, obj: BaseModel, seen: set[str], prefix: str = ""):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str):
        obj, prefix = self._obj, self._prefix
        attr = getattr(type(obj), name, None)
        if isinstance(attr, property):
            return attr.fget(self)            # a derived value: record what it reads
        value = getattr(obj, name)
        key = f"{prefix}.{name.rstrip('_')}" if prefix else name.rstrip("_")
        if callable(value):
            if prefix:
                self._seen.add(prefix)
            return value
        if name in type(obj).model_fields:
            if isinstance(value, BaseModel):
                return ParamsRecorder(value, self._seen, key)     # recorded at the key read below it
            self._seen.add(key)
        return value


@dataclass
class Violations:
    stage: str
    problems: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.problems.append(f"{self.stage}: {text}")


def _entry_of(path: Path, entries: dict[str, Path]) -> str | None:
    """The catalogue entry a file belongs to (itself or a folder above it); temp siblings of an
    atomic replace (`x.tmp`, `x.old`) belong to `x`."""
    parts = [p.removesuffix(".tmp").removesuffix(".old") for p in path.parts]
    norm = Path(*parts)
    for name, target in sorted(entries.items(), key=lambda kv: -len(kv[1].parts)):
        if norm == target or target in norm.parents:
            return name
    return None


def _covers(declared: str, used: str) -> bool:
    return used == declared or used.startswith(declared + ".")


def compare(stage: str, io, layout, read: set[Path], written: set[Path], keys: set[str]) -> list[str]:
    """Everything that differs between what `stage` declares (`io`, a StageIO) and what it did."""
    v = Violations(stage)
    names = {*io.deps, *io.outs, *io.reports, *io.metrics, *io.state}
    every = {n: getattr(layout, n) for n in dir(type(layout))
             if isinstance(getattr(type(layout), n, None), property) and not hasattr(BaseModel, n)} | {
        n: getattr(layout, n) for n in ("history", "feature_repo", "reference_data")}
    entries = {n: p.resolve() for n, p in every.items() if isinstance(p, Path)}
    mine = {n: entries[n] for n in names}
    produced = {*io.outs, *io.reports, *io.metrics}
    for path in sorted(read):
        entry = _entry_of(path, mine)
        if entry is None and path.suffix != ".py":   # loaded modules' source (torch.export reads it) is code
            other = _entry_of(path, entries)
            v.add(f"reads {path} ({other or 'not in the catalogue'}), not declared")
    for path in sorted(written):
        entry = _entry_of(path, mine)
        if entry is None or entry in io.deps and entry not in produced and entry not in io.state:
            v.add(f"writes {path} ({_entry_of(path, entries) or 'not in the catalogue'}), not declared")
    for dep in io.deps:
        if not any(_entry_of(p, {dep: mine[dep]}) for p in read | written):
            v.add(f"declares dependency {dep} but never reads it")
    for out in produced:
        if not any(_entry_of(p, {out: mine[out]}) for p in written):
            v.add(f"declares output {out} but never writes it")
    used = {k for k in keys if not k.startswith(("paths", "root"))}
    for key in sorted(used):
        if not any(_covers(d, key) for d in io.params):
            v.add(f"reads params key {key}, not declared")
    for d in io.params:
        if not any(_covers(d, k) or _covers(k, d) for k in used):
            v.add(f"declares params key {d} but never reads it")
    return v.problems
