"""Concurrency: promotions racing from several hosts (separate workdirs, one tracking server on
PostgreSQL) leave exactly one champion and one history event; the lock is PostgreSQL's, held across
processes and freed when its holder dies."""

import subprocess
import sys
import textwrap
import time

import pytest

from backends import postgres_database, mlflow_server, require_services

RACERS = 6


def _racer(url: str, lock_url: str | None, folder, version: str, start_at: float) -> subprocess.Popen:
    """A process that stands for one host: its own workdir (file lock), the shared server."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from mlflow import MlflowClient
        from accelops.registry.history import ChampionHistory, ChampionMoved
        history = ChampionHistory(MlflowClient({url!r}), "racer", "race", Path({str(folder)!r}) / "artifacts",
                                  Path({str(folder)!r}) / "locks" / "champion.lock", lock_url={lock_url!r})
        history.current()                             # connections warm before the start
        time.sleep(max(0.0, {start_at!r} - time.time()))
        try:
            history.move({version!r}, "promote", "race", expected_from=None)
            print("won")
        except ChampionMoved:
            print("lost")
        """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _race(url: str, lock_url: str | None, tmp_path, versions: list[str]) -> list[str]:
    start_at = time.time() + 8
    procs = [_racer(url, lock_url, tmp_path / f"host{i}", v, start_at) for i, v in enumerate(versions)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    return [out.strip() for out, _ in outs]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One MLflow server on PostgreSQL and a lock database for the module's tests."""
    require_services()
    with postgres_database() as store, postgres_database("accelops_lock") as lock_db, \
            mlflow_server(store, tmp_path_factory.mktemp("served")) as url:
        from mlflow import MlflowClient

        yield url, lock_db, MlflowClient(url)


def _model(client, name: str) -> list[str]:
    """A registered model with RACERS versions and no champion."""
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(f"{name}-models"))
    return [str(client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id).version)
            for _ in range(RACERS)]


def test_promotions_racing_from_several_hosts_leave_one_champion_and_one_event(server, tmp_path):
    from accelops.registry.history import ChampionHistory

    url, lock_db, client = server
    versions = _model(client, "racer")
    outcome = _race(url, lock_db, tmp_path, versions)
    assert sorted(outcome) == ["lost"] * (RACERS - 1) + ["won"], outcome
    winner = versions[outcome.index("won")]
    history = ChampionHistory(client, "racer", "race", tmp_path / "artifacts", tmp_path / "lock", lock_url=lock_db)
    assert history.current() == winner
    assert [(e.from_version, e.to_version) for e in history.events()] == [(None, winner)]


def _holder(lock_db: str, hold_s: float) -> subprocess.Popen:
    """Another host in the middle of a promotion: holds the champion lock `hold_s`, prints when it let go."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from accelops.registry.locks import advisory_lock
        with advisory_lock({lock_db!r}, "accelops.champion:waiter"):
            print("held", flush=True)
            time.sleep({hold_s!r})
            print(time.time(), flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_promotion_waits_for_another_hosts_lock_and_a_dead_holder_frees_it(server, tmp_path):
    """A different workdir (its own file lock) still waits: the lock is PostgreSQL's, not the machine's."""
    from accelops.errors import RegistryError
    from accelops.registry.history import ChampionHistory
    from accelops.registry.locks import advisory_lock

    url, lock_db, client = server
    versions = _model(client, "waiter")
    other_host = ChampionHistory(client, "waiter", "race", tmp_path / "artifacts", tmp_path / "elsewhere" / "lock",
                                 lock_url=lock_db)
    holder = _holder(lock_db, 2.0)
    other_host.move(versions[0], "promote", "after the other host", expected_from=None)
    moved_at = time.time()
    released_at = float(holder.stdout.readline())
    holder.kill()
    holder.wait(10)
    assert moved_at >= released_at and other_host.current() == versions[0]

    holder = _holder(lock_db, 60)
    with pytest.raises(RegistryError, match="still held by another process after 0.5 s"):
        with advisory_lock(lock_db, "accelops.champion:waiter", timeout_s=0.5):
            pass
    holder.kill()                                        # dies holding it: the server frees it with the connection
    holder.wait(10)
    time.sleep(0.5)
    with advisory_lock(lock_db, "accelops.champion:waiter", timeout_s=5):
        pass


def _check_concurrent(out: dict) -> None:
    for run in out["flows"]:
        assert run["exit_code"] == 0, run
        assert not run["locked"] and not run["locked_in_logs"], run          # no "database is locked"
    history = out["history"]
    assert history["champion"] is not None and history["chain"] and history["last_event_is_champion"], history
    assert history["promoted_versions"] == history["promotion_events_to"] and not history["undecided"], history
    assert [f["state"] for f in out["landed"]] == ["done"], out["landed"]
    assert out["consistent"]


@pytest.mark.heavy
def test_two_trainings_and_monitoring_at_once_on_the_embedded_sqlite_default(tmp_path):
    from helpers import write_params

    from accelops.config import load_params
    from accelops.pipeline import concurrency, stages

    source = write_params(tmp_path / "source")
    stages.STAGES["generate"](load_params(source))
    out = concurrency.embedded(source, tmp_path / "scratch")
    _check_concurrent(out)
    assert sum(run["waited_for_lock"] for run in out["flows"] if run["flow"].startswith("training")) == 1
    assert out["history"]["versions"] == 3                                  # the first run's and the two trainings'


@pytest.mark.heavy
def test_two_hosts_training_and_monitoring_at_once_on_postgresql_and_redis(server, tmp_path):
    """Two workdirs (two hosts: no shared file lock) against one MLflow server on PostgreSQL, one Feast SQL
    registry, one ledger, one Redis: the trainings really overlap; the promotion lock is PostgreSQL's."""
    import shutil
    import uuid

    from helpers import SMALL, write_params

    from accelops.config import load_params
    from accelops.features.store import open_store
    from accelops.pipeline import concurrency, stages
    from accelops.pipeline.faults import Flow

    url, _, _ = server
    project = f"conc_{uuid.uuid4().hex[:8]}"
    with postgres_database("feast") as feast_db, postgres_database("ledger") as ledger_db:
        hosts = [write_params(tmp_path / name, profile="server", register={"tracking_uri": url,
                                                                          "model_name": f"{project}-model",
                                                                          "experiment": project},
                              features={"project": project, "registry": feast_db, "online_store": "redis"},
                              monitor={**SMALL["monitor"], "ledger_url": ledger_db, "batch_rows": 2000})
                 for name in ("host_a", "host_b")]
        a = load_params(hosts[0])
        stages.STAGES["generate"](a)
        shutil.copy(a.layout.history, load_params(hosts[1]).layout.history)
        try:
            assert Flow(hosts[0], tmp_path / "clean.log").finish(900) == 0, (tmp_path / "clean.log").read_text()[-3000:]
            concurrency.land_batch(a)
            out = concurrency.concurrent_flows(hosts, hosts[0], tmp_path / "logs")
        finally:
            open_store(a).teardown()                                     # the online rows leave Redis
    _check_concurrent(out)
    assert not any(run["waited_for_lock"] for run in out["flows"])       # different workdirs: no file lock shared
    assert out["history"]["versions"] == 3
