"""Dependencies down: the online store deleted or its registry reset, named on the next lookup and
rebuilt by the materialize stage (an incremental load alone would skip every view and leave every
id unknown)."""

import pandas as pd
import pytest

from accelops.errors import FeatureStoreError


def _known_ids(params, n: int = 5) -> list[int]:
    history = pd.read_parquet(params.layout.history)
    return [int(i) for i in history[params.model_contract.entity_id].drop_duplicates().tail(n)]


@pytest.mark.parametrize("lost,message", [
    ("online_rows.db", "holds no feature table"),
    ("registry.db", "has no feature service 'churn_model_v3': the registry is missing or was reset"),
])
def test_a_deleted_online_store_or_registry_is_named_then_rebuilt_by_materialize(trained_copy, lost, message):
    from accelops.features import store as fs
    from accelops.pipeline import stages

    params = trained_copy.params
    ids = _known_ids(params)
    before = fs.online_lookup(fs.open_store(params), params, ids)
    assert before.unknown == []
    (params.layout.feast_dir / lost).unlink()

    with pytest.raises(FeatureStoreError, match=message) as caught:
        fs.online_lookup(fs.open_store(params), params, ids)
    assert "accelops stage materialize" in str(caught.value)

    summary = stages.STAGES["materialize"](params)           # what the next training run (or the operator) does
    assert not summary.skipped and all(v.entities > 0 and not v.skipped for v in summary.views.values())
    after = fs.online_lookup(fs.open_store(params), params, ids)
    assert after.unknown == []
    pd.testing.assert_frame_equal(after.frame, before.frame)
    again = stages.STAGES["materialize"](params)              # once rebuilt, loads are incremental again
    assert again.skipped


@pytest.fixture(scope="module")
def source_project(tmp_path_factory):
    """A small project with its generated history (the scenarios copy it; it is never trained itself)."""
    from helpers import write_params

    from accelops.config import load_params
    from accelops.pipeline import stages

    path = write_params(tmp_path_factory.mktemp("source"))
    stages.STAGES["generate"](load_params(path))
    return path


@pytest.mark.heavy
def test_a_tracking_server_stopped_mid_run_is_ridden_out_briefly_named_when_gone_and_recovered(source_project, tmp_path):
    from accelops.pipeline.dependencies import tracking_outage

    out = tracking_outage(source_project, tmp_path / "scratch", stage="train", down_s=5.0)
    short, long = out["short"], out["long"]
    assert short["stopped_in"] == "train" and short["exit_code"] == 0, short
    assert short["survived"] and short["versions_added"] and not short["undecided"], short
    assert long["stopped_in"] == "train" and long["exit_code"] == 2, long
    assert long["error"].startswith("error: TrackingUnavailable: MLflow tracking at http://127.0.0.1:"), long["error"]
    assert "did not answer after 6 retries (connection refused" in long["error"], long["error"]
    assert long["after_failure"]["champion_after"] == long["after_failure"]["champion_before"]
    assert long["after_failure"]["versions_added"] == [] and not long["after_failure"]["undecided"]
    assert long["failed_run_status"] == "FAILED" and long["rerun_exit_code"] == 0
    assert len(long["after_rerun"]["versions_added"]) == 1 and not long["after_rerun"]["undecided"]
    assert out["survived"]


@pytest.mark.heavy
def test_a_full_artifact_disk_fails_named_leaves_the_champion_and_recovers_once_freed(source_project, tmp_path):
    from accelops.pipeline.dependencies import artifacts_full

    out = artifacts_full(source_project, tmp_path / "scratch")
    if out["survived"] is None:
        pytest.skip(out["detail"])                    # mounting a tmpfs needs root
    assert out["exit_code"] == 2 and out["error"].startswith("error: StorageFull: "), out
    assert out["path"] in out["error"] and "no space left on the device" in out["error"], out["error"]
    assert out["failed_run_status"] == "FAILED"
    after = out["after_failure"]
    assert after["champion_after"] == after["champion_before"] and after["versions_added"] == [] \
        and not after["undecided"]
    assert out["rerun_exit_code"] == 0 and len(out["after_rerun"]["versions_added"]) == 1
    assert out["survived"]
