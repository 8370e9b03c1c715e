"""The process's runtime: the CPU cores it may use, and the environment for the orchestrator and
tools, set before they are imported.

Only environment variables are touched here (Prefect is never imported by the library)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accelops.config import Params

# The one place these values are set: the CLI, the flows' entry points and tests/conftest.py apply them.
DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",   # the ephemeral server on 2 busy cores
    "PREFECT_LOGGING_EXTRA_LOGGERS": "accelops",
    "DO_NOT_TRACK": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_CONFIGURE_LOGGING": "false",       # MLflow's log lines follow route_tool_logs (the tools log)
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",   # "View run ... at http://..." on a tracking server
    "GIT_PYTHON_REFRESH": "quiet",
    # a tracking server that stops answering: retried for about a minute (sleeps 0, 2, 4, 8, 16, 32 s, each
    # request at most 60 s), so a restart is ridden out, then TrackingUnavailable; MLflow's own defaults
    # (7 retries, factor 2) sleep about 4 minutes before a failure, with 120 s per request
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "6",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
UI_PORTS = {"mlflow": 5000, "prefect": 4200}    # `accelops ui`, on 127.0.0.1


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


SMALL_TABLE_ROWS = 20_000


def threads_for(rows: int, requested: int = 0) -> int:
    """CPU threads for a fit on `rows` rows: `requested` when set; else 1 below SMALL_TABLE_ROWS rows
    (starting and syncing threads costs more than it saves there, and a second thread on a busy core
    made the label check 4x slower), else one per available core."""
    if requested:
        return requested
    return 1 if rows < SMALL_TABLE_ROWS else available_cores()


def apply_defaults() -> None:
    """Set each DEFAULTS variable the environment does not already set."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def configure(params: Params) -> None:
    """apply_defaults(), third-party logs to the workdir's tools.log, and Prefect's home (ephemeral
    server DB, results) under the workdir unless the user set one."""
    apply_defaults()
    route_logs(params)
    if "PREFECT_API_URL" not in os.environ:
        home = params.layout.prefect_home
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PREFECT_HOME", str(home))


def route_logs(params: Params) -> None:
    """Third-party output to the workdir's tools.log, every accelops line to its accelops.log (the
    flows call this too: a run a served deployment starts is a fresh process)."""
    route_tool_logs(params.layout.tools_log)
    route_run_log(params.layout.run_log)


QUIET_LOGGERS = ("httpx", "httpcore", "alembic", "feast.infra.registry.registry")
PROGRESS = "accelops.progress"          # one line per stage or decision: what the console shows by default
VERBOSE_ENV = "ACCELOPS_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").lower() in ("1", "true", "yes")


def configure_logging(level: int | str = "INFO", verbose_console: bool | None = None) -> None:
    """The console: by default one line per stage and decision (the `accelops.progress` logger) plus
    warnings and errors from accelops; with `--verbose` (ACCELOPS_VERBOSE=1) every accelops and
    Prefect INFO line. Full detail always lands in the workdir's logs (`configure`). Prefect's own
    console handler follows (its run logs still reach the API, so the UI shows them)."""
    import logging

    loud = verbose() if verbose_console is None else verbose_console
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "0" if loud else "WARNING"   # read when Prefect loads
    root = logging.getLogger()
    root.setLevel(level)
    root.handlers = [h for h in root.handlers if not getattr(h, "accelops_console", False)]
    handler = logging.StreamHandler(sys.stderr)
    handler.accelops_console = True
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
                         if loud else _QuietConsole("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    if not loud:
        handler.addFilter(lambda r: r.name == PROGRESS or (r.levelno >= logging.WARNING and
                                                           not r.name.startswith(TOOL_LOGGERS)))
    root.addHandler(handler)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _is_named(exc: BaseException | None) -> bool:
    from accelops.errors import AccelopsError, named_failure

    return isinstance(exc, AccelopsError) or (exc is not None and named_failure(exc) is not None)


class _QuietConsole(logging.Formatter):
    """The default console's lines: a record whose exception is a named error (an AccelopsError, or a
    dependency's failure accelops names: tracking server gone, disk full) prints without its traceback,
    which stays in the logs (Prefect logs a failed task and flow with every chained traceback: ~250
    lines before the one-line error). Unexpected exceptions keep theirs."""

    def format(self, record):
        if record.exc_info and _is_named(record.exc_info[1]):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def route_run_log(path: Path) -> None:
    """Every accelops line (INFO and up) also goes to `path` (the workdir's accelops.log)."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("accelops")
    ours = [h for h in logger.handlers if getattr(h, "accelops_run_log", False)]
    if [h.baseFilename for h in ours] != [str(path.resolve())]:      # one workdir's log at a time
        for h in ours:
            logger.removeHandler(h)
            h.close()
        handler = logging.FileHandler(path)
        handler.accelops_run_log = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


TOOL_LOGGERS = ("great_expectations", "py.warnings", "mlflow", "torch", "onnxscript", "onnx_ir", "feast", "evidently",
                "matplotlib", "urllib3", "alembic", "httpx", "httpcore", "numexpr", "distributed")


def route_tool_logs(path: Path) -> None:
    """Third-party chatter (Great Expectations' registration lines, torch / ONNX / MLflow warnings...)
    goes to `path` instead of the console; accelops' own progress and Prefect's run logs stay there.
    Python warnings are captured into the log too."""
    import logging

    global _TOOLS_HANDLER
    path.parent.mkdir(parents=True, exist_ok=True)
    if _TOOLS_HANDLER is None or _TOOLS_HANDLER.baseFilename != str(path.resolve()):
        if _TOOLS_HANDLER is not None:
            _TOOLS_HANDLER.close()            # another workdir's log: this process moved on
        _TOOLS_HANDLER = logging.FileHandler(path)
        _TOOLS_HANDLER.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.captureWarnings(True)
    reroute_tools(*TOOL_LOGGERS)


_TOOLS_HANDLER = None


def reroute_tools(*names: str) -> None:
    """Send these loggers, and their children that carry their own handlers, to the tools log again: a
    library that installs console handlers when imported (torch does, on `torch` and dozens of
    children such as `torch.onnx`) undoes route_tool_logs. No-op before route_tool_logs."""
    import logging

    handler = _TOOLS_HANDLER
    if handler is None:
        return
    children = [n for n, lg in list(logging.Logger.manager.loggerDict.items())
                if isinstance(lg, logging.Logger) and lg.handlers and n.startswith(tuple(f"{x}." for x in names))]
    for name in [*names, *children]:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def start_group(cmd: list[str], env: dict | None = None, log=None):
    """Start `cmd` in its own process group (so stopping it stops every process it spawns: MLflow's
    gunicorn workers and job consumers, Prefect's services)."""
    import subprocess

    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                            start_new_session=True)


def stop_group(process, timeout: float = 20) -> None:
    """SIGTERM the process group, SIGKILL what is left after `timeout` seconds."""
    import contextlib
    import signal
    import subprocess

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):      # children that outlived their parent
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout)


def supervise(cmd: list[str], env: dict | None = None) -> int:
    """Run `cmd` in the foreground as its own process group; SIGINT / SIGTERM to this process stop the
    whole group, and nothing of it outlives this call. Returns the exit status."""
    import signal

    process = start_group(cmd, env)
    stop = lambda *_: stop_group(process)                     # noqa: E731
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    finally:
        stop_group(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_healthy(url: str, process, timeout: float = 180, log_path: Path | None = None) -> None:
    """Poll `url` until it answers; raise RuntimeError (with the log's tail) when the process died or
    `timeout` passed."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text()[-2000:] if log_path and log_path.exists() else ""
                raise RuntimeError(f"{url} did not answer: {tail}")
            time.sleep(1)
