"""The console: a line per stage and decision by default, every line with --verbose; tool chatter
and the full detail in the workdir's logs."""

import logging

import pytest

from accelops import runtime


@pytest.fixture
def console(monkeypatch):
    """Restores the root, tool and accelops loggers and the environment the test changes."""
    monkeypatch.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "")
    names = ["", "accelops", *runtime.TOOL_LOGGERS, "torch.onnx.fake_child"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    tools = runtime._TOOLS_HANDLER
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers, logger.level, logger.propagate = handlers, level, propagate
    runtime._TOOLS_HANDLER = tools


def _emit() -> None:
    logging.getLogger(runtime.PROGRESS).info("[1/8] reference 0.4 s")
    logging.getLogger("accelops.stages").info("detail line")
    logging.getLogger("accelops.stages").warning("a warning of ours")
    logging.getLogger("great_expectations.core").warning("registration chatter")


def test_the_default_console_shows_progress_and_our_warnings_only(console, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv(runtime.VERBOSE_ENV, raising=False)
    runtime.configure_logging()
    runtime.route_tool_logs(tmp_path / "tools.log")
    runtime.route_run_log(tmp_path / "accelops.log")
    _emit()
    err = capsys.readouterr().err
    assert "[1/8] reference 0.4 s" in err and "a warning of ours" in err
    assert "detail line" not in err and "registration chatter" not in err
    assert "registration chatter" in (tmp_path / "tools.log").read_text()
    assert "detail line" in (tmp_path / "accelops.log").read_text()
    import os

    assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "WARNING"


def test_a_named_failure_prints_its_line_without_the_traceback_an_unexpected_one_keeps_it(console, monkeypatch):
    """Prefect logs a failed task and flow with every chained traceback; for an error accelops names (its
    own, or a dependency's: the tracking server gone, a full disk) the console keeps the line only. (The
    console handler's own output is checked: other tests' handlers may write to stderr too.)"""
    import errno
    import sys

    from accelops.errors import TrackingUnavailable

    monkeypatch.delenv(runtime.VERBOSE_ENV, raising=False)
    runtime.configure_logging()
    console_handler = next(h for h in logging.getLogger().handlers if getattr(h, "accelops_console", False))
    failures = {"named": TrackingUnavailable("MLflow tracking at http://127.0.0.1:1 did not answer"),
                "disk full": OSError(errno.ENOSPC, "No space left on device", "/tmp/x"),
                "a bug": ZeroDivisionError("division by zero")}
    shown = {}
    for what, exc in failures.items():
        try:
            raise exc
        except Exception:
            record = logging.getLogger("prefect.flow_runs").makeRecord(
                "prefect.flow_runs", logging.ERROR, __file__, 0, "run failed: %s", (what,), sys.exc_info())
        shown[what] = console_handler.format(record)
    assert shown["named"].endswith("run failed: named") and "Traceback" not in shown["named"]
    assert shown["disk full"].endswith("run failed: disk full") and "Traceback" not in shown["disk full"]
    assert "Traceback (most recent call last)" in shown["a bug"] and "ZeroDivisionError: division by zero" in shown["a bug"]


def test_verbose_shows_every_accelops_line(console, capsys, monkeypatch):
    monkeypatch.setenv(runtime.VERBOSE_ENV, "1")
    runtime.configure_logging()
    _emit()
    err = capsys.readouterr().err
    assert "detail line" in err and "INFO accelops.stages: detail line" in err


def test_torch_children_with_their_own_console_handlers_are_routed_again(console, tmp_path):
    runtime.route_tool_logs(tmp_path / "tools.log")
    child = logging.getLogger("torch.onnx.fake_child")
    child.addHandler(logging.StreamHandler())          # what torch._logging does on import
    child.propagate = False
    runtime.reroute_tools("torch")
    assert [type(h).__name__ for h in child.handlers] == ["FileHandler"]
    child.warning("torchvision is not installed")
    assert "torchvision is not installed" in (tmp_path / "tools.log").read_text()


def test_stopping_a_process_group_leaves_no_child_behind():
    """`accelops ui` and `accelops serve` run servers as process groups: MLflow's workers and job
    consumers, Prefect's services go with them."""
    import time

    import psutil

    group = runtime.start_group(["bash", "-c", "sleep 300 & sleep 300 & wait"])
    deadline = time.monotonic() + 10
    while len(children := psutil.Process(group.pid).children(recursive=True)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    runtime.stop_group(group, timeout=5)
    time.sleep(0.2)
    assert group.poll() is not None
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_only_a_store_failure_is_retried_never_a_named_error_of_ours():
    from accelops.errors import FeatureStoreError
    from accelops_flows.tasks import _io, _transient

    class Ended:                                   # what Prefect hands the condition: a state whose result raises
        def __init__(self, exc):
            self.exc = exc

        def result(self):
            raise self.exc

    assert _transient(None, None, Ended(ConnectionError("redis went away"))) is True
    assert _transient(None, None, Ended(OSError("database is locked"))) is True
    assert _transient(None, None, Ended(FeatureStoreError("view over its missing share"))) is False
    assert _io["retries"] == 2 and _io["retry_delay_seconds"] == [5, 20]


def test_the_logs_follow_the_workdir_a_process_moves_to(console, tmp_path):
    """A process that runs flows for two projects (the tests, a scheduler) writes each project's lines
    to that project's logs only, and keeps one file open per log."""
    runtime.route_run_log(tmp_path / "a" / "accelops.log")
    runtime.route_run_log(tmp_path / "a" / "accelops.log")
    runtime.route_run_log(tmp_path / "b" / "accelops.log")
    logging.getLogger("accelops.stages").info("a line for b")
    assert "a line for b" not in (tmp_path / "a" / "accelops.log").read_text()
    assert "a line for b" in (tmp_path / "b" / "accelops.log").read_text()
    assert len([h for h in logging.getLogger("accelops").handlers if getattr(h, "accelops_run_log", False)]) == 1
