"""One training flow per workdir at a time, and what the next one repairs when a previous one died.

A flow killed outright (SIGKILL, out of memory, a lost machine) runs no `finally`: its MLflow run stays
RUNNING and, killed inside the register stage, it can leave a registered version the gate never
decided on. Everything else it writes is atomic (model folders, reports, checkpoints that the next
`train` resumes from), so the next flow, holding the workdir's lock, knows the run in
`layout.active_run` is dead and closes it: the run FAILED with why in its description, its undecided
versions deleted (a version that had already become @champion keeps its place and gets a decision
tag saying the record was lost). The lock is a kernel file lock (filelock), freed however its holder
dies, so a stale lock file never blocks."""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from accelops.config import Params
from accelops.errors import WorkdirBusy
from accelops.runtime import PROGRESS

log = logging.getLogger("accelops.recovery")
progress = logging.getLogger(PROGRESS)


@contextmanager
def exclusive_training(params: Params) -> Iterator[None]:
    """Hold the workdir's training lock for the block; wait up to serve.training_wait_minutes for a
    flow that holds it, then raise WorkdirBusy naming the holder."""
    from filelock import FileLock, Timeout

    path = params.layout.training_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = path.with_name(path.name + ".owner")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = owner.read_text().strip() if owner.exists() else "owner unknown"
        wait = params.serve.training_wait_minutes
        progress.info("waiting up to %g min for the training run in progress in %s (%s)", wait,
                      params.layout.workdir, holder)
        try:
            lock.acquire(timeout=wait * 60)
        except Timeout:
            raise WorkdirBusy(f"{params.layout.workdir}: another training run ({holder}) still holds {path} after "
                              f"{wait:g} min (serve.training_wait_minutes)") from None
    try:
        owner.write_text(f"pid {os.getpid()} on {socket.gethostname()} since "
                         f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def recover_interrupted(params: Params) -> list[str]:
    """Close what a dead training flow left open (call while holding `exclusive_training`); returns one
    line per repair, nothing when the last flow ended cleanly."""
    from mlflow.exceptions import MlflowException

    from accelops.registry import tracking
    from accelops.registry.history import for_params

    run_id = tracking.active_run(params)
    if run_id is None:
        return []
    client = tracking.connect(params)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    done = []
    try:
        run = client.get_run(run_id)
    except MlflowException:
        run = None
    if run is not None and run.info.status == "RUNNING":
        before = run.data.tags.get("mlflow.note.content", "")
        client.set_tag(run_id, "mlflow.note.content", (f"Interrupted: the process running this training flow "
                       f"stopped without closing it (killed?); closed by the next training run at {now}.\n\n"
                       f"{before}")[:5000])
        client.set_tag(run_id, "interrupted", "true")
        client.set_terminated(run_id, "FAILED")
        done.append(f"run {run_id}: FAILED (its flow was interrupted)")
    name = params.register_.model_name
    history = for_params(params, client)
    champion = history.current()
    for v in client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'"):
        if "gate.status" in v.tags:
            continue                                 # decided before the flow died: a complete version
        if str(v.version) == champion:
            lost = {"gate.status": "PROMOTED", "gate.decision": "promoted",
                    "gate.reason": "the decision record was lost: its flow was interrupted after @champion moved "
                                   "(see the champion history)"}
            for key, value in lost.items():
                client.set_model_version_tag(name, v.version, key, value)
            done.append(f"v{v.version}: @champion, decision tags restored")
        else:
            client.delete_model_version(name, v.version)
            done.append(f"v{v.version}: deleted (registered, never decided)")
    params.layout.active_run.unlink(missing_ok=True)
    for line in done:
        log.warning("recovered from an interrupted training run: %s", line)
    return done
